// The real bridge, with `signing: standard-webhooks`, POSTs to a webhook that verifies every
// request with the reference standardwebhooks library (pinned in package.json) and answers
// 200 only when `new Webhook(secret).verify(body, headers)` accepts it, 401 otherwise. The
// verification is the library's; this script only counts its verdicts.
//
// Usage: node standard_webhooks.js BINARY
// Exit 0 on pass, 1 on the first failed expectation (printed). Every wait is bounded.
'use strict';

const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { Webhook } = require('standardwebhooks');

const [binary] = process.argv.slice(2);
if (!binary) {
  console.error('usage: node standard_webhooks.js BINARY');
  process.exit(2);
}

const CLIENT_ID = 'dingstandardwebhooks';
const CLIENT_SECRET = 'standard-webhooks-client-secret';
// The specification's example secret, and a second one the webhook does not know.
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const OTHER_SECRET = 'whsec_' + Buffer.from('a key the webhook does not know').toString('base64');
const ROBOT_TOPIC = '/v1.0/im/bot/messages/get';
const CARD_TOPIC = '/v1.0/card/instances/callback';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(what, predicate, timeoutMs = 10000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await predicate();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

// A child process whose output is kept for the failure report.
function start(args) {
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.output = '';
  child.stdout.on('data', (chunk) => { child.output += chunk; });
  child.stderr.on('data', (chunk) => { child.output += chunk; });
  return child;
}

// Every request with the library's verdict: {path, headers, body, verified, error}.
function verifyingWebhook() {
  const webhook = new Webhook(SECRET);
  const seen = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const record = { path: req.url, headers: req.headers, body, verified: false, error: '' };
      try {
        webhook.verify(body, req.headers);
        record.verified = true;
      } catch (e) {
        record.error = String(e.message || e);
      }
      seen.push(record);
      res.writeHead(record.verified ? 200 : 401, { 'Content-Type': 'application/json' });
      res.end(record.verified ? '{}' : JSON.stringify({ error: record.error }));
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve({ server, seen, port: server.address().port }));
  });
}

function bridgeConfig(apiBase, hookBase, stateDir) {
  const route = (name, selector, extra) => [
    `  - name: ${name}`,
    `    ${selector}`,
    `    url: ${hookBase}/${name}`,
    '    signing: standard-webhooks',
    ...extra.map((line) => `    ${line}`),
  ];
  return [
    'dingtalk:',
    `  client_id: ${CLIENT_ID}`,
    `  client_secret: ${CLIENT_SECRET}`,
    `  api_base: ${apiBase}`,
    'admin:',
    '  listen: ""',
    `state_dir: ${stateDir}`,
    'routes:',
    ...route('robot', `topic: ${ROBOT_TOPIC}`, ['format: legacy-robot', `signing_secret: ${SECRET}`]),
    ...route('cards', `topic: ${CARD_TOPIC}`, ['format: legacy-card', `signing_secret: ${SECRET}`]),
    ...route('unknown-key', 'event: unknown_key', [`signing_secret: ${OTHER_SECRET}`]),
    ...route('events', 'event: "*"', [`signing_secret: ${SECRET}`]),
    '',
  ].join('\n');
}

async function main() {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'dsb-standard-webhooks-'));
  const children = [];
  const hook = await verifyingWebhook();
  try {
    const emulator = start(['emulate', '--listen', '127.0.0.1:0', '--client-id', CLIENT_ID,
                            '--client-secret', CLIENT_SECRET]);
    children.push(emulator);
    const address = await waitFor('the emulator address',
      () => (/emulator listening on (\S+)/.exec(emulator.output) || [])[1]);
    const base = `http://${address}`;
    const api = async (method, apiPath, body) => {
      const res = await fetch(base + apiPath, {
        method,
        headers: { 'Content-Type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(5000),
      });
      assert.equal(res.status, 200, `${method} ${apiPath}`);
      return res.json();
    };

    const configPath = path.join(work, 'bridge.yaml');
    fs.writeFileSync(configPath,
      bridgeConfig(base, `http://127.0.0.1:${hook.port}`, path.join(work, 'state')));
    const bridge = start(['run', '-c', configPath]);
    children.push(bridge);
    await waitFor('the bridge connection',
      async () => (await api('GET', '/emulator/connections')).some((c) => c.state === 'open'));

    const ackOf = (messageId) => waitFor(`the ACK of ${messageId}`,
      async () => (await api('GET', '/emulator/acks')).find((a) => a.messageId === messageId));
    const eventStatus = (ack) => JSON.parse(ack.data).status;

    // raw: an event whose data is not ASCII (the signature covers the UTF-8 bytes).
    const event = await api('POST', '/emulator/frames', {
      type: 'EVENT', topic: '*', eventType: 'user_add_org',
      data: { userId: ['u1'], name: '张三', note: 'signed "quotes" & ümlauts' },
    });
    const eventAck = await ackOf(event.messageId);
    const raw = hook.seen.find((r) => r.path === '/events');
    assert.ok(raw && raw.verified, `raw event verified: ${raw && raw.error}`);
    assert.equal(eventStatus(eventAck), 'SUCCESS');
    assert.equal(raw.headers['webhook-id'], raw.headers['idempotency-key'],
      'webhook-id is the Idempotency-Key');

    // legacy-card: the reply becomes the ACK's response only when the webhook answered 200.
    const card = await api('POST', '/emulator/frames',
      { type: 'CALLBACK', topic: CARD_TOPIC, data: { outTrackId: 'track-1', value: '卡片' } });
    const cardAck = await ackOf(card.messageId);
    assert.equal(cardAck.code, 200, `legacy-card callback verified: ${JSON.stringify(cardAck)}`);

    // legacy-robot: ACKed at once, so the webhook's verdict is read directly.
    await api('POST', '/emulator/frames', {
      type: 'CALLBACK', topic: ROBOT_TOPIC,
      data: { msgtype: 'text', text: { content: '你好' }, msgId: 'msg-standard-webhooks-1',
              conversationType: '1', senderStaffId: 'staff1' },
    });
    const robot = await waitFor('the robot POST', () => hook.seen.find((r) => r.path === '/robot'));
    assert.ok(robot.verified, `legacy-robot message verified: ${robot.error}`);

    // A key the webhook does not know: the library refuses it, so the event is LATER.
    const refused = await api('POST', '/emulator/frames',
      { type: 'EVENT', topic: '*', eventType: 'unknown_key', data: { userId: ['u2'] } });
    assert.equal(eventStatus(await ackOf(refused.messageId)), 'LATER');
    const wrong = hook.seen.find((r) => r.path === '/unknown-key');
    assert.ok(wrong && !wrong.verified, 'a request signed with another key is refused');
    assert.match(wrong.error, /No matching signature/);

    console.log(`PASS: ${hook.seen.filter((r) => r.verified).length} requests verified by ` +
                'standardwebhooks, 1 signed with another key refused');
  } catch (e) {
    for (const child of children) console.error(`--- ${child.spawnargs[1]} output ---\n${child.output}`);
    throw e;
  } finally {
    for (const child of children) child.kill('SIGTERM');
    hook.server.close();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(`FAIL: ${e.message}`);
    process.exit(1);
  });
