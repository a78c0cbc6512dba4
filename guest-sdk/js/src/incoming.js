// Inside a component: the `wasi:http/incoming-handler` export. The build (tools/build.mjs)
// exports `incomingHandler` from here for the http-handler world, which turns StarlingMonkey's
// fetch event off: that event is made once per instance and answers one request, so an instance
// serving many (`reuse = N`) needs the export. The work is src/incoming-handler.js's; this module
// only hands it the component's `wasi:http/types` import. Never loaded under node, where that
// import does not resolve.

import { Fields, IncomingBody, OutgoingBody, OutgoingResponse, ResponseOutparam } from 'wasi:http/types@0.2.10';
import { useIncomingHandler } from './http.js';
import { incomingHandlerOver } from './incoming-handler.js';

useIncomingHandler();

/** The component's `wasi:http/incoming-handler` export. */
export const incomingHandler = incomingHandlerOver({
  Fields, IncomingBody, OutgoingBody, OutgoingResponse, ResponseOutparam,
});
