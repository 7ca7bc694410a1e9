#include "tests/support/process.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace testing {
namespace {

std::vector<char*> to_argv(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const auto& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  return argv;
}

void apply_env(const std::map<std::string, std::string>& extra_env) {
  for (const auto& [key, value] : extra_env) setenv(key.c_str(), value.c_str(), 1);
}

// In the forked child: a process group of its own (so a kill reaches what
// the program starts), the given stdin/stdout/stderr, the extra environment,
// then the program; 127 when it cannot be run, as a shell says.
[[noreturn]] void exec_child(const std::vector<std::string>& args,
                             const std::map<std::string, std::string>& extra_env, int in, int out,
                             int err, std::initializer_list<int> close_after) {
  setpgid(0, 0);
  dup2(in, 0);
  dup2(out, 1);
  dup2(err, 2);
  for (int fd : close_after) close(fd);
  apply_env(extra_env);
  auto argv = to_argv(args);
  execvp(argv[0], argv.data());
  _exit(127);
}

int decode_status(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : -1; }

}  // namespace

ProcessResult run_process(const std::vector<std::string>& args, std::chrono::milliseconds timeout,
                          const std::map<std::string, std::string>& extra_env,
                          const std::string& stdin_data) {
  int out_pipe[2], err_pipe[2], in_pipe[2];
  if (pipe(out_pipe) != 0 || pipe(err_pipe) != 0 || pipe(in_pipe) != 0)
    throw std::runtime_error("pipe failed");
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    exec_child(args, extra_env, in_pipe[0], out_pipe[1], err_pipe[1],
               {out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1], in_pipe[0], in_pipe[1]});
  }
  close(out_pipe[1]);
  close(err_pipe[1]);
  close(in_pipe[0]);
  if (!stdin_data.empty()) {
    ssize_t ignored = write(in_pipe[1], stdin_data.data(), stdin_data.size());
    (void)ignored;
  }
  close(in_pipe[1]);

  ProcessResult result;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  int open_fds = 2;
  char buffer[65536];
  while (open_fds > 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      result.timed_out = true;
      kill(-pid, SIGKILL);
      break;
    }
    if (poll(fds, 2, static_cast<int>(left.count())) < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t n = read(fds[i].fd, buffer, sizeof buffer);
      if (n <= 0) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      } else {
        (i == 0 ? result.out : result.err).append(buffer, static_cast<size_t>(n));
      }
    }
  }
  for (auto& fd : fds)
    if (fd.fd >= 0) close(fd.fd);
  int status = 0;
  waitpid(pid, &status, 0);
  result.exit_code = result.timed_out ? -1 : decode_status(status);
  return result;
}

ProcessResult run_mtlsprobe(const std::vector<std::string>& args, std::chrono::milliseconds timeout,
                            const std::map<std::string, std::string>& extra_env) {
  std::vector<std::string> argv{MTLSPROBE_BIN};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_process(argv, timeout, extra_env);
}

BackgroundProcess::BackgroundProcess(const std::vector<std::string>& args,
                                     const std::map<std::string, std::string>& extra_env) {
  char pattern[] = "/tmp/mtlsprobe-bg-XXXXXX";
  int log_fd = mkstemp(pattern);
  if (log_fd < 0) throw std::runtime_error("mkstemp failed");
  log_file_ = pattern;
  int in_pipe[2];
  if (pipe(in_pipe) != 0) throw std::runtime_error("pipe failed");
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0)
    exec_child(args, extra_env, in_pipe[0], log_fd, log_fd, {in_pipe[0], in_pipe[1], log_fd});
  close(in_pipe[0]);
  close(log_fd);
  stdin_fd_ = in_pipe[1];
}

BackgroundProcess::~BackgroundProcess() {
  if (stdin_fd_ >= 0) close(stdin_fd_);
  if (pid_ > 0 && !exited_) {
    kill(-pid_, SIGKILL);
    kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
  }
  unlink(log_file_.c_str());
}

std::string BackgroundProcess::output() const {
  std::ifstream in(log_file_);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

bool BackgroundProcess::running() {
  if (exited_) return false;
  int status = 0;
  pid_t done = waitpid(pid_, &status, WNOHANG);
  if (done == pid_) {
    exited_ = true;
    exit_code_ = decode_status(status);
    return false;
  }
  return true;
}

int BackgroundProcess::wait(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (running()) {
    if (std::chrono::steady_clock::now() > deadline) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return exit_code_;
}

void BackgroundProcess::write_stdin(const std::string& data) {
  if (stdin_fd_ < 0) return;
  ssize_t ignored = write(stdin_fd_, data.data(), data.size());
  (void)ignored;
}

bool wait_for_port(unsigned short port, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool connected = connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
    close(fd);
    if (connected) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  return false;
}

unsigned short free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t length = sizeof address;
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  close(fd);
  return ntohs(address.sin_port);
}

}  // namespace testing
