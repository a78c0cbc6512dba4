// Inside a component: installs the `tarn:function` imports as the SDK's transport. The build
// (tools/build.mjs) bundles this module ahead of the function's own code; it is never loaded
// under node, where these import specifiers do not resolve.

import * as tables from 'tarn:function/tables@0.1.0';
import * as log from 'tarn:function/log@0.1.0';
import { errorFor } from './errors.js';
import { OPERATIONS, setTransport } from './host.js';

setTransport({
  call(operation, request) {
    try {
      return tables[OPERATIONS[operation]](request);
    } catch (e) {
      // An `err` result arrives as an exception whose payload is the WIT `error` record.
      if (e && e.payload && typeof e.payload.kind === 'string') throw errorFor(e.payload.kind, e.payload.message);
      throw e;
    }
  },
  log(level, message) {
    log.write(level, message);
  },
});
