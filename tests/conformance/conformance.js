// The official dingtalk-stream npm client (pinned in package.json) against our emulator.
// Usage: node conformance.js http://127.0.0.1:PORT CLIENT_ID CLIENT_SECRET
// Exit 0 on pass, 1 on the first failed expectation (printed). Every wait is bounded.
'use strict';

const assert = require('node:assert/strict');
const axios = require('axios');  // the same instance dingtalk-stream's client uses
const { DWClient, EventAck } = require('dingtalk-stream');

const [base, clientId, clientSecret] = process.argv.slice(2);
if (!base || !clientId || !clientSecret) {
  console.error('usage: node conformance.js BASE_URL CLIENT_ID CLIENT_SECRET');
  process.exit(2);
}

// The client hard-codes https://api.dingtalk.com/...; send those calls to the emulator.
const DINGTALK_API = 'https://api.dingtalk.com';
axios.interceptors.request.use((config) => {
  if (typeof config.url === 'string' && config.url.startsWith(DINGTALK_API)) {
    config.url = base + config.url.slice(DINGTALK_API.length);
  }
  return config;
});

const CARD_TOPIC = '/v1.0/card/instances/callback';
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function api(method, path, body) {
  const res = await fetch(base + path, {
    method,
    headers: { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(5000),
  });
  const value = await res.json();
  if (res.status !== 200) throw new Error(`${method} ${path}: HTTP ${res.status} ${JSON.stringify(value)}`);
  return value;
}

async function waitFor(what, predicate, timeoutMs = 10000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await predicate();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

async function ackOf(messageId) {
  return waitFor(`the ACK of ${messageId}`, async () =>
    (await api('GET', '/emulator/acks')).find((a) => a.messageId === messageId));
}

// The open connections, or null when there are none (an empty array is truthy).
async function openConnections(except) {
  const open = (await api('GET', '/emulator/connections'))
    .filter((c) => c.state === 'open' && c.id !== except);
  return open.length ? open : null;
}

async function main() {
  const events = [];
  const callbacks = [];
  const cardReply = { cardData: { cardParamMap: { status: 'accepted' } } };
  const client = new DWClient({ clientId, clientSecret, ua: 'conformance-test' });
  client.registerAllEventListener((message) => {
    events.push(message);
    return { status: EventAck.SUCCESS, message: 'ok' };
  });
  client.registerCallbackListener(CARD_TOPIC, (message) => {
    callbacks.push(message);
    client.socketCallBackResponse(message.headers.messageId, cardReply);
  });
  client.connect();

  try {
    console.log('step: the client opens a connection');
    const [first] = await waitFor('an open connection', () => openConnections());
    const opens = await api('GET', '/emulator/opens');
    assert.equal(opens.length, 1, 'one open call');
    assert.equal(opens[0].status, 200);
    assert.equal(opens[0].accept.includes('application/json'), true, 'Accept: application/json sent');
    assert.deepEqual(first.subscriptions.map((s) => `${s.type} ${s.topic}`).sort(),
                     ['CALLBACK ' + CARD_TOPIC, 'EVENT *']);

    console.log('step: an EVENT is delivered and ACKed SUCCESS');
    const ev = await api('POST', '/emulator/frames',
                         { type: 'EVENT', eventType: 'user_add_org', data: { userId: ['u1'] } });
    const evAck = await ackOf(ev.messageId);
    assert.equal(evAck.code, 200);
    assert.equal(evAck.status, 'SUCCESS');
    assert.equal(events.length, 1);
    assert.equal(events[0].headers.eventId, ev.eventId);
    assert.equal(events[0].headers.eventType, 'user_add_org');
    assert.deepEqual(JSON.parse(events[0].data), { userId: ['u1'] });
    const frames = await api('GET', '/emulator/frames');
    assert.equal(frames.find((f) => f.messageId === ev.messageId).ack.status, 'SUCCESS');

    console.log('step: a CALLBACK is answered with socketCallBackResponse');
    const cb = await api('POST', '/emulator/frames',
                         { type: 'CALLBACK', topic: CARD_TOPIC, data: { outTrackId: 'card-1' } });
    const cbAck = await ackOf(cb.messageId);
    assert.equal(cbAck.code, 200);
    assert.deepEqual(JSON.parse(cbAck.data), { response: cardReply });
    assert.equal(callbacks.length, 1);

    console.log('step: a SYSTEM ping is answered with the same messageId and data');
    const ping = await api('POST', '/emulator/system/ping', {});
    const pingAck = await ackOf(ping.messageId);
    assert.equal(pingAck.code, 200);
    assert.deepEqual(JSON.parse(pingAck.data), { opaque: ping.opaque });

    console.log('step: SYSTEM disconnect -> the emulator closes after 10 s -> the client reconnects');
    await api('POST', '/emulator/system/disconnect', { connection: first.id });
    const [second] = await waitFor('a second connection',
                                   () => openConnections(first.id), 20000);
    const conns = await api('GET', '/emulator/connections');
    const old = conns.find((c) => c.id === first.id);
    assert.equal(old.state, 'closed');
    assert.match(old.closeReason, /after disconnect/);
    const opensAfter = await api('GET', '/emulator/opens');
    assert.equal(opensAfter.length, 2, 'a second open call (new ticket)');
    assert.equal(opensAfter[1].status, 200);

    console.log('step: the new connection receives a further EVENT');
    const ev2 = await api('POST', '/emulator/frames', { type: 'EVENT', data: { n: 2 } });
    assert.equal(ev2.connection, second.id);
    const ev2Ack = await ackOf(ev2.messageId);
    assert.equal(ev2Ack.status, 'SUCCESS');
    assert.equal(ev2Ack.connection, second.id);
    assert.equal(events.length, 2);

    console.log('step: every ACK the client wrote passes the emulator\'s ACK shape check');
    assert.deepEqual(await api('GET', '/emulator/ack-violations'), { count: 0, violations: [] });
  } finally {
    client.disconnect();
  }
  console.log('PASS: dingtalk-stream client conformance');
}

const watchdog = setTimeout(() => {
  console.error('FAIL: conformance scenario exceeded 90 s');
  process.exit(1);
}, 90000);

main().then(() => {
  clearTimeout(watchdog);
  setTimeout(() => process.exit(0), 100);
}, (err) => {
  console.error('FAIL:', err && err.message ? err.message : err);
  process.exit(1);
});
