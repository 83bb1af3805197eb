// A real redis-server for a test: on a free loopback port, no persistence unless asked, in a
// temporary directory; stopped (SIGTERM, then SIGKILL) by the destructor. Nothing is
// skipped: a missing redis-server fails the test (packaging/install-deps.sh installs it).
#pragma once

#include <catch2/catch.hpp>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "config/config.hpp"
#include "store/redis_connection.hpp"

extern char** environ;

namespace dsb::test {

class RedisServer {
 public:
  // appendonly: "yes" keeps the data across stop()/start() (the restart tests).
  explicit RedisServer(bool appendonly = false) : appendonly_(appendonly) {
    std::string pattern = (std::filesystem::temp_directory_path() / "redis-test-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    dir_ = pattern;
    for (int attempt = 0; attempt < 5 && pid_ <= 0; ++attempt) {
      port_ = free_port();
      if (!start()) stop();
    }
    REQUIRE(pid_ > 0);
  }
  ~RedisServer() {
    stop();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  int port() const { return port_; }
  config::RedisEndpoint endpoint() const { return {"127.0.0.1", port_, "", 0}; }
  std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_); }

  // Starts it (again) on the same port; true once it answers PING.
  bool start() {
    const std::string port = std::to_string(port_);
    const std::string dir = dir_.string();
    std::vector<std::string> args = {"redis-server", "--port", port, "--bind", "127.0.0.1",
                                     "--save", "", "--appendonly", appendonly_ ? "yes" : "no",
                                     "--dir", dir, "--logfile", dir + "/redis.log"};
    std::vector<char*> argv;
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    pid_t pid = 0;
    if (posix_spawnp(&pid, "redis-server", nullptr, nullptr, argv.data(), environ) != 0) {
      FAIL("redis-server could not be started: is it installed (packaging/install-deps.sh)?");
    }
    pid_ = pid;
    for (int i = 0; i < 200; ++i) {  // up to 10 s
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {  // exited: port taken, say
        pid_ = 0;
        return false;
      }
      store::RedisConnection probe({endpoint(), 500, 500, 0, 0});
      if (probe.ensure()) {
        auto pong = probe.command({"PING"});
        if (pong && pong->str == "PONG") return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }

  // Kills it at once (SIGKILL: no last save), as a crash would.
  void kill() { stop(SIGKILL); }
  void stop(int signal = SIGTERM) {
    if (pid_ <= 0) return;
    ::kill(pid_, signal);
    int status = 0;
    for (int i = 0; i < 100; ++i) {
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = 0;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &status, 0);
    pid_ = 0;
  }

 private:
  static int free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    socklen_t len = sizeof addr;
    REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    ::close(fd);
    return ntohs(addr.sin_port);
  }

  bool appendonly_;
  std::filesystem::path dir_;
  int port_ = 0;
  pid_t pid_ = 0;
};

}  // namespace dsb::test
