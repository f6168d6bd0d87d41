// messages.js sends transactional messages with the official customerio-node APIClient and
// prints ONE JSON document, keyed by step name, as compat.js does; e2e/messages_test.go checks
// it. A stored email message named "welcome" must exist. Env as for compat.js.
'use strict';

const { APIClient, SendEmailRequest, SendInAppRequest } = require('customerio-node');

const env = (name) => process.env[name] || (process.stderr.write(`messages.js: ${name} is not set\n`), process.exit(2));
const base = env('HERALD_URL').replace(/\/+$/, '');
const api = new APIClient(env('HERALD_APP_API_KEY'), { url: `${base}/v1`, retry: { maxRetries: 0 } });

const results = {};
async function step(name, fn) {
  try {
    results[name] = await fn();
  } catch (e) {
    const err = { error: String(e && e.message) };
    if (e && e.statusCode !== undefined) err.statusCode = e.statusCode;
    results[name] = err;
  }
}

(async () => {
  await step('inline', () => api.sendEmail(new SendEmailRequest({
    to: 'ann@example.com', identifiers: { id: 'ann' }, from: 'Shop <shop@herald.test>',
    subject: 'Order {{ trigger.order }}', body: '<p>Hi {{ customer.first_name | default: "there" }}, <a href="https://shop.example.com/o/{{ trigger.order }}">your order</a></p>',
    message_data: { order: 'A-17' },
  })));
  await step('template', () => api.sendEmail(new SendEmailRequest({
    to: 'bob@example.com', identifiers: { email: 'bob@example.com' }, transactional_message_id: 'welcome',
    message_data: { plan: 'pro' }, send_to_unsubscribed: false,
  })));
  await step('missingVariable', () => api.sendEmail(new SendEmailRequest({
    to: 'ann@example.com', identifiers: { id: 'ann' }, subject: 's', body: '{{ customer.nickname }}', from: 'shop@herald.test',
  })));
  await step('inApp', () => api.sendInApp(new SendInAppRequest({ identifiers: { id: 'ann' }, transactional_message_id: 'banner' })));
  await new Promise((r) => setTimeout(r, 500));
  await step('messages', () => api.getCustomerMessages('ann'));
  process.stdout.write(JSON.stringify(results));
})();
