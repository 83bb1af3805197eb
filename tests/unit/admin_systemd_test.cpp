// sd_notify against a fake NOTIFY_SOCKET: an AF_UNIX datagram socket in a temporary
// directory, read back by the test.
#include <catch2/catch.hpp>

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "admin/systemd_notify.hpp"
#include "loop/event_loop.hpp"

using namespace dsb::admin;
using namespace std::chrono_literals;

namespace {

// Binds the socket and points NOTIFY_SOCKET (and nothing else) at it; restores on exit.
class FakeNotifySocket {
 public:
  FakeNotifySocket() {
    char dir_template[] = "/tmp/dsb-notify-XXXXXX";
    REQUIRE(mkdtemp(dir_template) != nullptr);
    dir_ = dir_template;
    path_ = dir_ + "/notify";
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    REQUIRE(path_.size() < sizeof addr.sun_path);
    std::strcpy(addr.sun_path, path_.c_str());
    REQUIRE(bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    setenv("NOTIFY_SOCKET", path_.c_str(), 1);
  }
  ~FakeNotifySocket() {
    unsetenv("NOTIFY_SOCKET");
    unsetenv("WATCHDOG_USEC");
    unsetenv("WATCHDOG_PID");
    close(fd_);
    unlink(path_.c_str());
    rmdir(dir_.c_str());
  }

  // The next datagram, or "" after `timeout_ms`.
  std::string receive(int timeout_ms = 2000) {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) != 1) return {};
    char buf[4096];
    ssize_t n = recv(fd_, buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
  }

 private:
  std::string dir_, path_;
  int fd_ = -1;
};

}  // namespace

#ifdef BRIDGE_HAVE_SYSTEMD

TEST_CASE("sd_notify messages reach NOTIFY_SOCKET", "[admin][systemd]") {
  FakeNotifySocket fake;
  CHECK(systemd::notify_ready());
  CHECK(fake.receive() == "READY=1");
  CHECK(systemd::notify_status("connected: 2 of 2\nsecond line"));
  CHECK(fake.receive() == "STATUS=connected: 2 of 2 second line");
  CHECK(systemd::notify_watchdog());
  CHECK(fake.receive() == "WATCHDOG=1");
  CHECK(systemd::notify_stopping());
  CHECK(fake.receive() == "STOPPING=1");
  CHECK(systemd::notify_reloading());
  std::string reloading = fake.receive();
  CHECK(reloading.rfind("RELOADING=1\nMONOTONIC_USEC=", 0) == 0);
  CHECK(reloading.size() > std::strlen("RELOADING=1\nMONOTONIC_USEC="));
  CHECK(fake.receive(50).empty());  // nothing else was sent
}

TEST_CASE("watchdog_interval reads WATCHDOG_USEC for this process only", "[admin][systemd]") {
  FakeNotifySocket fake;
  CHECK(systemd::watchdog_interval() == 0us);
  setenv("WATCHDOG_USEC", "2000000", 1);
  CHECK(systemd::watchdog_interval() == 2s);
  setenv("WATCHDOG_PID", std::to_string(getpid()).c_str(), 1);
  CHECK(systemd::watchdog_interval() == 2s);
  setenv("WATCHDOG_PID", std::to_string(getpid() + 1).c_str(), 1);  // meant for another process
  CHECK(systemd::watchdog_interval() == 0us);
}

TEST_CASE("the watchdog pinger sends WATCHDOG=1 from the loop every half interval", "[admin][systemd]") {
  FakeNotifySocket fake;
  setenv("WATCHDOG_USEC", "100000", 1);  // 100 ms: pings every 50 ms
  dsb::loop::EventLoop loop;
  REQUIRE(loop.create(64).is_ok());
  systemd::WatchdogPinger pinger;
  pinger.start(loop);
  REQUIRE(pinger.running());
  loop.after(230ms, [&] {
    pinger.stop();
    loop.quit();
  });
  loop.run();
  CHECK_FALSE(pinger.running());
  int pings = 0;
  for (std::string m = fake.receive(0); !m.empty(); m = fake.receive(0)) {
    CHECK(m == "WATCHDOG=1");
    ++pings;
  }
  CHECK(pings >= 4);  // one at start, then about every 50 ms
  CHECK(pings <= 6);
  CHECK(loop.pending_timers() == 0);
  loop.destroy();
}

#endif

TEST_CASE("sd_notify calls are no-ops without NOTIFY_SOCKET", "[admin][systemd]") {
  unsetenv("NOTIFY_SOCKET");
  unsetenv("WATCHDOG_USEC");
  CHECK_FALSE(systemd::notify_ready());
  CHECK_FALSE(systemd::notify_status("x"));
  CHECK_FALSE(systemd::notify_watchdog());
  CHECK_FALSE(systemd::notify_stopping());
  CHECK_FALSE(systemd::notify_reloading());
  CHECK(systemd::watchdog_interval() == 0us);
  dsb::loop::EventLoop loop;
  REQUIRE(loop.create(64).is_ok());
  systemd::WatchdogPinger pinger;
  pinger.start(loop);
  CHECK_FALSE(pinger.running());
  CHECK(loop.pending_timers() == 0);
  loop.destroy();
}
