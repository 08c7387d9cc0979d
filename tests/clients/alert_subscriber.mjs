// A graphql-ws subscriber for tests/clients/alert_latency.py: prints "ready", then "<epoch ms> <period>" for each
// PAR30_ABOVE_5_ASSOCIATION alert raised. Needs `npm install graphql-ws ws graphql` (in this folder or above).
// Usage: KEY=mfo_... node alert_subscriber.mjs ws://127.0.0.1:8080/graphql
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const client = createClient({
  url: process.argv[2],
  webSocketImpl: WebSocket,
  connectionParams: { Authorization: `Bearer ${process.env.KEY}` },
});
const query = `subscription { alertRaised(filter: { rules: ["PAR30_ABOVE_5_ASSOCIATION"] }) { id period } }`;
console.log('ready');
try {
  for await (const result of client.iterate({ query })) {
    console.log(`${Date.now()} ${result.data.alertRaised.period}`);
  }
} catch (error) {
  // The server went away (it closes with 1001 when it stops) and graphql-ws could not reconnect.
  console.error('subscription ended:', error?.message ?? error?.reason ?? error);
}
