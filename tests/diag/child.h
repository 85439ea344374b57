#pragma once
// Runs one scenario of this test binary in a child process: the scenario is a disabled
// test (DISABLED_Child.<name>), started with --gtest_also_run_disabled_tests. For what ends
// a process (deadlock and SIGQUIT reports exit with status 2) or needs one to look at (gdb).

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

extern char** environ;

namespace diag_test {

class child {
 public:
  // Starts DISABLED_Child.<scenario> with extra environment variables ("NAME=value").
  child(const std::string& scenario, const std::vector<std::string>& env = {});
  ~child();
  child(const child&) = delete;
  child& operator=(const child&) = delete;

  pid_t pid() const { return pid_; }
  // Reads output until stdout has a line equal to `line`; false on EOF or timeout.
  bool wait_for_line(const std::string& line, std::chrono::seconds timeout = std::chrono::seconds(60));
  // Waits for the child to exit (killing it after the timeout) and collects the rest of
  // its output. Returns the wait status.
  int finish(std::chrono::seconds timeout = std::chrono::seconds(120));

  const std::string& out() const { return out_; }
  const std::string& err() const { return err_; }

 private:
  bool pump(int timeout_ms);  // false when both pipes are closed
  pid_t pid_ = -1;
  int out_fd_ = -1, err_fd_ = -1;
  std::string out_, err_;
};

// Runs a scenario to completion: {wait status, stdout, stderr}.
struct result {
  int status;
  std::string out, err;
};
inline result run_child(const std::string& scenario, const std::vector<std::string>& env = {});

// The exit code if the child exited normally, else -1 - signal number.
inline int exit_code(int status);

// True when running as a child scenario (GORO_DIAG_CHILD is set): the scenarios check it so
// that --gtest_also_run_disabled_tests alone runs none of them.
inline bool in_child();



inline child::child(const std::string& scenario, const std::vector<std::string>& env) {
  int out[2], err[2];
  if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&fa, err[1], STDERR_FILENO);
  std::string filter = "--gtest_filter=DISABLED_Child." + scenario;
  std::vector<std::string> args = {"/proc/self/exe", "--gtest_also_run_disabled_tests", filter};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> envs;
  for (char** e = environ; *e != nullptr; e++) envs.emplace_back(*e);
  envs.emplace_back("GORO_DIAG_CHILD=1");
  for (const auto& e : env) envs.push_back(e);
  std::vector<char*> envp;
  for (auto& e : envs) envp.push_back(e.data());
  envp.push_back(nullptr);
  if (posix_spawn(&pid_, "/proc/self/exe", &fa, nullptr, argv.data(), envp.data()) != 0) {
    throw std::runtime_error("posix_spawn");
  }
  posix_spawn_file_actions_destroy(&fa);
  close(out[1]);
  close(err[1]);
  out_fd_ = out[0];
  err_fd_ = err[0];
}

inline child::~child() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  if (out_fd_ >= 0) close(out_fd_);
  if (err_fd_ >= 0) close(err_fd_);
}

inline bool child::pump(int timeout_ms) {
  pollfd fds[2] = {{out_fd_, POLLIN, 0}, {err_fd_, POLLIN, 0}};
  int open = (out_fd_ >= 0) + (err_fd_ >= 0);
  if (open == 0) return false;
  if (poll(fds, 2, timeout_ms) <= 0) return true;
  int* fdp[2] = {&out_fd_, &err_fd_};
  std::string* bufs[2] = {&out_, &err_};
  for (int i = 0; i < 2; i++) {
    if (*fdp[i] < 0 || fds[i].revents == 0) continue;
    char buf[65536];
    ssize_t n = read(*fdp[i], buf, sizeof buf);
    if (n > 0) {
      bufs[i]->append(buf, static_cast<std::size_t>(n));
    } else {
      close(*fdp[i]);
      *fdp[i] = -1;
    }
  }
  return true;
}

inline bool child::wait_for_line(const std::string& line, std::chrono::seconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (out_.find("\n" + line + "\n") != std::string::npos || out_.rfind(line + "\n", 0) == 0) return true;
    if (!pump(100)) return false;
  }
  return false;
}

inline int child::finish(std::chrono::seconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (pump(100)) {
    if (std::chrono::steady_clock::now() > deadline) kill(pid_, SIGKILL);
  }
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return status;
}

inline result run_child(const std::string& scenario, const std::vector<std::string>& env) {
  child c(scenario, env);
  int status = c.finish();
  return {status, c.out(), c.err()};
}

inline int exit_code(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return -1 - WTERMSIG(status);
  return -1;
}

inline bool in_child() { return std::getenv("GORO_DIAG_CHILD") != nullptr; }

}  // namespace diag_test
