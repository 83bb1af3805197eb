#include "bridge/signals.hpp"

#include <array>
#include <atomic>
#include <csignal>

namespace dsb::bridge {
namespace {

std::atomic<bool> g_stop_requested{false};
std::atomic<bool> g_reload_requested{false};
static_assert(std::atomic<bool>::is_always_lock_free);
static_assert(std::atomic<uint32_t>::is_always_lock_free);

struct IgnoredSignal {
  int number;
  const char* name;
  std::atomic<uint32_t> received{0};
};
std::array<IgnoredSignal, 3> g_ignored{
    {{SIGUSR1, "SIGUSR1"}, {SIGUSR2, "SIGUSR2"}, {SIGALRM, "SIGALRM"}}};

extern "C" void on_stop_signal(int) { g_stop_requested.store(true); }
extern "C" void on_reload_signal(int) { g_reload_requested.store(true); }
extern "C" void on_ignored_signal(int number) {
  for (auto& signal : g_ignored) {
    if (signal.number == number) signal.received.fetch_add(1);
  }
}

}  // namespace

void install_signal_handlers() {
  struct sigaction action {};
  sigemptyset(&action.sa_mask);
  action.sa_handler = on_stop_signal;
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
  action.sa_handler = on_reload_signal;
  sigaction(SIGHUP, &action, nullptr);
  action.sa_handler = on_ignored_signal;
  for (const auto& signal : g_ignored) sigaction(signal.number, &action, nullptr);
  action.sa_handler = SIG_IGN;
  sigaction(SIGPIPE, &action, nullptr);
}

TakenSignals take_signals() {
  TakenSignals taken;
  taken.stop = g_stop_requested.load();
  taken.reload = g_reload_requested.exchange(false);
  for (auto& signal : g_ignored) {
    if (const uint32_t times = signal.received.exchange(0); times > 0) {
      taken.ignored.push_back({signal.name, times});
    }
  }
  return taken;
}

}  // namespace dsb::bridge
