// compat.js drives a running Herald server with the official customerio-node client and
// prints ONE JSON document to stdout: an object keyed by step name holding exactly what each
// client call resolved with, or {error, statusCode, body} when it threw. e2e/compat_test.go
// runs it and checks the document field by field.
//
// Env: HERALD_URL (e.g. http://127.0.0.1:8080), HERALD_SITE_ID, HERALD_TRACK_API_KEY,
// HERALD_APP_API_KEY, HERALD_WRITE_KEY. The object type with id 1 ("Companies") must already exist:
// customerio-node has no call that creates object types.
//
// Install the client first: npm ci --prefix e2e/testdata/compat
'use strict';

const { TrackClient, APIClient, PipelinesClient } = require('customerio-node');

function env(name) {
  const v = process.env[name];
  if (!v) {
    process.stderr.write(`compat.js: ${name} is not set\n`);
    process.exit(2);
  }
  return v;
}

const base = env('HERALD_URL').replace(/\/+$/, '');
// Retries off: a failure must surface at once, not after backoff.
const retry = { maxRetries: 0 };
const track = new TrackClient(env('HERALD_SITE_ID'), env('HERALD_TRACK_API_KEY'), { url: `${base}/api/v1`, retry });
const api = new APIClient(env('HERALD_APP_API_KEY'), { url: `${base}/v1`, retry });
const pipelines = new PipelinesClient(env('HERALD_WRITE_KEY'), { url: `${base}/v1`, retry, strictMode: true });

// The scenario's data; the Go test asserts against the same literals.
const PERSON = 'user-1';
const EMAIL = 'user-1@example.com';
const TYPE = '1';
const OBJECT = 'acme';
const OTHER_OBJECT = 'globex';

const results = {};

// step runs fn and records what it resolved with, or the error it threw.
async function step(name, fn) {
  try {
    results[name] = await fn();
  } catch (e) {
    const err = { error: String(e && e.message), name: e && e.name };
    if (e && e.statusCode !== undefined) err.statusCode = e.statusCode;
    if (e && typeof e.body === 'string') err.body = e.body;
    results[name] = err;
  }
}

(async () => {
  // ---- Track API (Basic auth) ----
  await step('identify', () => track.identify(PERSON, { email: EMAIL, plan: 'basic' }));
  await step('track', () => track.track(PERSON, { name: 'purchased', data: { price: 9.99, sku: 'A-1' } }));
  await step('batch', () => track.batch([
    // 0: update the person: plan basic -> pro is an attribute_change.
    { type: 'person', action: 'identify', identifiers: { id: PERSON }, attributes: { plan: 'pro' } },
    // 1: an object related to the person, with a relationship attribute.
    {
      type: 'object', action: 'identify', identifiers: { object_type_id: TYPE, object_id: OBJECT },
      attributes: { name: 'Acme Corp', employees: 250, active: true, score: 9.5 },
      cio_relationships: [{ identifiers: { id: PERSON }, relationship_attributes: { user_role: 'admin' } }],
    },
    // 2: an event.
    { type: 'person', action: 'event', identifiers: { id: PERSON }, name: 'viewed_pricing', attributes: { page: '/pricing' } },
    // 3: invalid: object type 99 does not exist.
    { type: 'object', action: 'identify', identifiers: { object_type_id: '99', object_id: 'nope' }, attributes: { name: 'Nope' } },
  ]));
  await step('entity', () => track.entity({
    type: 'object', action: 'identify', identifiers: { object_type_id: TYPE, object_id: OTHER_OBJECT },
    attributes: { name: 'Globex' },
  }));

  // ---- App API (Bearer auth) ----
  await step('listObjectTypes', () => api.listObjectTypes());
  await step('findObjects', () => api.findObjects(TYPE,
    { and: [{ object_attribute: { field: 'name', operator: 'eq', value: 'Acme Corp', type_id: 1 } }] }, { limit: 10 }));
  await step('getObjectAttributes', () => api.getObjectAttributes(TYPE, OBJECT, 'object_id'));
  await step('getObjectRelationships', () => api.getObjectRelationships(TYPE, OBJECT, { idType: 'object_id', limit: 10 }));
  await step('getCustomerRelationships', () => api.getCustomerRelationships(PERSON, { limit: 10 }));
  await step('getAttributes', () => api.getAttributes(PERSON, 'id'));
  await step('getCustomerActivities', () => api.getCustomerActivities(PERSON, { idType: 'id', limit: 50 }));

  // ---- Pipelines API (write key; strict mode, so refusals are real errors) ----
  await step('pipelinesIdentify', () => pipelines.identify({ userId: 'user-2', traits: { email: 'user-2@example.com', plan: 'team' } }));
  await step('pipelinesTrack', () => pipelines.track({ userId: 'user-2', event: 'Seat Added', properties: { seats: 3 } }));
  await step('pipelinesGroup', () => pipelines.group({ userId: 'user-2', groupId: OBJECT,
    traits: { object_type_id: TYPE, relationshipAttributes: { user_role: 'contributor' } } }));
  await step('pipelinesBatch', () => pipelines.batch([
    { type: 'identify', userId: 'user-3', traits: { email: 'user-3@example.com' } },
    { type: 'track', userId: 'user-3', event: 'Signed Up' },
  ]));
  await step('pipelinesRefused', () => pipelines.group({ userId: 'user-2', groupId: 'x', traits: { object_type_id: '99' } }));
  await step('pipelinesRelationships', () => api.getObjectRelationships(TYPE, OBJECT, { idType: 'object_id', limit: 10 }));
  await step('pipelinesUser3', () => api.getAttributes('user-3', 'id'));

  process.stdout.write(JSON.stringify(results) + '\n');
})().catch((e) => {
  process.stderr.write(`compat.js: ${e && e.stack ? e.stack : e}\n`);
  process.exit(1);
});
