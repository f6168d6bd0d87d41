// campaigns.js drives Herald's campaigns with the official customerio-node client and prints
// ONE JSON document keyed by step name, as compat.js does; e2e/campaigns_test.go checks it.
// Env as for compat.js, plus CAMPAIGN_ID: a running API-triggered campaign.
'use strict';

const { APIClient } = require('customerio-node');

const env = (name) => process.env[name] || (process.stderr.write(`campaigns.js: ${name} is not set\n`), process.exit(2));
const api = new APIClient(env('HERALD_APP_API_KEY'), { url: `${env('HERALD_URL').replace(/\/+$/, '')}/v1`, retry: { maxRetries: 0 } });
const id = Number(env('CAMPAIGN_ID'));

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
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

(async () => {
  await step('listCampaigns', () => api.listCampaigns());
  await step('getCampaign', () => api.getCampaign(id));
  await step('triggerBroadcast', () => api.triggerBroadcast(id, { coupon: 'SPRING' }, { ids: ['ann', 'bob'] }));
  await step('perUser', () => api.triggerBroadcast(id, {}, { per_user_data: [{ id: 'ann', data: { coupon: 'ANN10' } }] }));
  await step('messages', async () => {
    for (let i = 0; i < 100; i++) {
      const r = await api.getCampaignMessages(id, { limit: 10 });
      if (r.messages && r.messages.length >= 3) return r;
      await sleep(50);
    }
    return api.getCampaignMessages(id, { limit: 10 });
  });
  await step('metrics', () => api.getCampaignMetrics(id));
  await step('journeyMetrics', () => api.getCampaignJourneyMetrics(id, { start: 1, end: 2000000000, res: 'days' }));
  await step('unknown', () => api.getCampaign(999));
  process.stdout.write(JSON.stringify(results) + '\n');
})().catch((e) => {
  process.stderr.write(`campaigns.js: ${e && e.stack ? e.stack : e}\n`);
  process.exit(1);
});
