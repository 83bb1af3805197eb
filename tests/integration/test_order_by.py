"""`order_by` (product.md section 10): frames of a route with the same value at the field
are POSTed one at a time, in arrival order; other values run side by side. Interleaved
messages of 50 conversations go through a webhook with random latency and random failures
(seeded, bounded), direct and spooled, and each conversation's arrivals are checked:

- one at a time: a conversation's POST starts only after the previous one was answered
  (each arrival is at or after the previous one's arrival plus the delay it was given);
- in order: direct, each conversation's POSTs are in the order its frames were sent (a
  failed direct event is ACKed LATER and comes back with the emulator's redelivery, later:
  it is a new arrival then); spooled, the attempts of a conversation never go back in its
  order, so a failed attempt is retried before the next message of its conversation, and
  each message is accepted once, in order, also across a restart of the bridge.
"""
import json
import random
import tempfile
import threading
import unittest

from harness import Bridge, Emulator, StubWebhook, bridge_config, wait_until

CONVERSATIONS = 50
PER_CONVERSATION = 6
ROBOT_TOPIC = "/v1.0/im/bot/messages/get"


def interleaved(seed):
    """(conversation, n) for every message, conversations shuffled together, each
    conversation's own messages in order n = 0, 1, 2, ..."""
    rng = random.Random(seed)
    queue = [c for c in range(CONVERSATIONS) for _ in range(PER_CONVERSATION)]
    rng.shuffle(queue)
    next_n = [0] * CONVERSATIONS
    out = []
    for c in queue:
        out.append((c, next_n[c]))
        next_n[c] += 1
    return out


class FlakyConversations:
    """The webhook's answers: a random delay up to 30 ms, and a failure for a message's
    first `fail_times` attempts with probability `fail_rate`: a 500, or for `close_share` of
    them the connection closed with no answer (libcurl resends a request whose reused
    connection closes before any answer, so those may arrive twice: spool test only). Seeded; the decisions are drawn per message, so they do not depend on the
    order the requests arrive in."""

    def __init__(self, seed, fail_rate, fail_times=1, close_share=0.0):
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.fail_rate, self.fail_times, self.close_share = fail_rate, fail_times, close_share
        self.failures_left = {}
        self.refuse_all = False  # every request fails while set (the restart test)

    def __call__(self, record):
        body = json.loads(record["body"])
        key = (body["conversationId"], body["n"])
        with self.lock:
            delay = self.rng.uniform(0.0, 0.03)
            if key not in self.failures_left:
                fails = self.rng.random() < self.fail_rate
                self.failures_left[key] = self.fail_times if fails else 0
            record["key"], record["delay"] = key, delay
            if self.refuse_all:
                return 503, delay
            if self.failures_left[key] > 0:
                self.failures_left[key] -= 1
                return (None if self.rng.random() < self.close_share else 500), delay
            return 200, delay


def by_conversation(requests):
    out = {}
    for r in requests:
        out.setdefault(r["key"][0], []).append(r)
    return out


class OrderByTest(unittest.TestCase):
    def start(self, routes, state_dir=None):
        overrides = {"log.level": "info"}
        if state_dir:
            overrides["state_dir"] = state_dir
        bridge = Bridge(bridge_config(self.emulator, routes, **overrides))
        self.addCleanup(bridge.stop)
        self.emulator.wait_for_connections(1)
        return bridge

    def setUp(self):
        self.emulator = Emulator()
        self.addCleanup(self.emulator.stop)

    def assert_one_at_a_time(self, requests):
        for conversation, posts in by_conversation(requests).items():
            for before, after in zip(posts, posts[1:]):
                # The bridge cannot have read the answer before the webhook sent it.
                self.assertGreaterEqual(after["at"], before["at"] + before["delay"] - 0.001,
                                        f"conversation {conversation}: {after['key']} started "
                                        f"while {before['key']} was still running")

    def send_events(self, messages):
        return [self.emulator.send_event(event_type="chat_message",
                                         data={"conversationId": f"c{c:02d}", "n": n})["messageId"]
                for c, n in messages]

    def test_direct_robot_messages_one_at_a_time_in_arrival_order(self):
        answers = FlakyConversations(seed=13, fail_rate=0.2)
        hook = StubWebhook(answer=answers)
        self.addCleanup(hook.close)
        self.start([{"name": "robot", "topic": ROBOT_TOPIC, "url": hook.url,
                     "order_by": "conversationId", "max_in_flight": 16}])
        messages = interleaved(seed=1)
        for c, n in messages:
            self.emulator.send_callback(ROBOT_TOPIC, {
                "msgId": f"msg-{c}-{n}", "conversationId": f"c{c:02d}", "n": n,
                "msgtype": "text", "text": {"content": f"message {n}"}})
        # Robot messages are ACKed on arrival; a failed one is not retried (direct).
        wait_until(lambda: len(hook.requests) >= len(messages), timeout=15,
                   what=f"{len(messages)} POSTs")
        self.assertEqual(len(hook.requests), len(messages))
        self.assert_one_at_a_time(hook.requests)
        for conversation, posts in by_conversation(hook.requests).items():
            self.assertEqual([r["key"][1] for r in posts], list(range(PER_CONVERSATION)),
                             f"conversation {conversation}")
        self.assertTrue(any(r["status"] != 200 for r in hook.requests), "no failure was tried")

    def test_direct_events_one_at_a_time_failures_come_back_with_the_redelivery(self):
        answers = FlakyConversations(seed=7, fail_rate=0.2)
        hook = StubWebhook(answer=answers)
        self.addCleanup(hook.close)
        self.start([{"name": "chat", "event": "chat_message", "url": hook.url,
                     "order_by": "conversationId"}])
        messages = interleaved(seed=2)
        sent = self.send_events(messages)
        acks = [json.loads(self.emulator.wait_for_ack(m)["data"])["status"] for m in sent]
        first_round = list(hook.requests)
        self.assertEqual(len(first_round), len(messages))
        self.assertIn("LATER", acks)
        # Before any redelivery, the frames the bridge took are exactly the ones sent: each
        # conversation's POSTs are in its send order.
        for conversation, posts in by_conversation(first_round).items():
            self.assertEqual([r["key"][1] for r in posts], list(range(PER_CONVERSATION)),
                             f"conversation {conversation}")
        # The failed ones come back, later: each is POSTed again (only those), and succeeds.
        failed = {r["key"] for r in first_round if r["status"] != 200}
        self.emulator.post("/emulator/redeliver")
        wait_until(lambda: len(hook.requests) >= len(messages) + len(failed), timeout=10,
                   what="the redelivered events")
        again = hook.requests[len(first_round):]
        self.assertEqual(sorted(r["key"] for r in again), sorted(failed))
        self.assertTrue(all(r["status"] == 200 for r in again))
        self.assert_one_at_a_time(hook.requests)

    def test_spool_keeps_each_conversation_in_order_across_retries_and_a_restart(self):
        answers = FlakyConversations(seed=21, fail_rate=0.25, fail_times=2, close_share=0.3)
        hook = StubWebhook(answer=answers)
        self.addCleanup(hook.close)
        state = tempfile.TemporaryDirectory(prefix="order-by-state-")
        self.addCleanup(state.cleanup)
        route = {"name": "chat", "event": "chat_message", "url": hook.url,
                 "delivery": "spool", "order_by": "conversationId",
                 "retry": "{max_attempts: 100, backoff: {initial: 20ms, max: 100ms}}"}
        bridge = self.start([route], state_dir=state.name + "/state")
        messages = interleaved(seed=3)
        half = len(messages) // 2
        sent = self.send_events(messages[:half])
        for m in sent:
            self.emulator.wait_for_ack(m)
        # Then the webhook fails everything, and the bridge stops with deliveries pending.
        answers.refuse_all = True
        sent = self.send_events(messages[half:])
        for m in sent:
            self.assertEqual(json.loads(self.emulator.wait_for_ack(m)["data"])["status"], "SUCCESS")
        refused = len(hook.requests)
        wait_until(lambda: len(hook.requests) > refused + 20, timeout=5, what="refused retries")
        bridge.stop()
        answers.refuse_all = False
        self.start([route], state_dir=state.name + "/state")

        def accepted():
            return [r for r in hook.requests if r["status"] == 200]
        wait_until(lambda: len(accepted()) >= len(messages), timeout=15,
                   what=f"{len(messages)} accepted deliveries")
        self.assert_one_at_a_time(hook.requests)
        for conversation, posts in by_conversation(hook.requests).items():
            attempts = [r["key"][1] for r in posts]
            self.assertEqual(attempts, sorted(attempts),
                             f"conversation {conversation}: an attempt went back in its order")
            self.assertEqual([r["key"][1] for r in posts if r["status"] == 200],
                             list(range(PER_CONVERSATION)), f"conversation {conversation}")
        self.assertTrue(any(r["status"] not in (200, 503) for r in hook.requests))


if __name__ == "__main__":
    unittest.main()
