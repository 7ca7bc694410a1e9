#pragma once
// Runs real programs (mtlsprobe itself, openssl s_server / s_client) from tests.
#include <sys/types.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace testing {

struct ProcessResult {
  int exit_code = -1;  // -1 when killed by a signal or timed out
  std::string out;
  std::string err;
  bool timed_out = false;
};

// Runs to completion (killed after `timeout`), capturing stdout and stderr.
ProcessResult run_process(const std::vector<std::string>& argv,
                          std::chrono::milliseconds timeout = std::chrono::seconds(60),
                          const std::map<std::string, std::string>& extra_env = {},
                          const std::string& stdin_data = "");

// Shorthand: runs the mtlsprobe binary under test with these arguments.
ProcessResult run_mtlsprobe(const std::vector<std::string>& args,
                            std::chrono::milliseconds timeout = std::chrono::seconds(60),
                            const std::map<std::string, std::string>& extra_env = {});

// A long-running peer (e.g. `openssl s_server`), killed when destroyed.
// Its stdout+stderr go to a file that `output()` reads.
class BackgroundProcess {
 public:
  explicit BackgroundProcess(const std::vector<std::string>& argv,
                             const std::map<std::string, std::string>& extra_env = {});
  ~BackgroundProcess();
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;

  std::string output() const;
  bool running();
  // Waits for exit (bounded); returns the exit code or -1.
  int wait(std::chrono::milliseconds timeout);
  void write_stdin(const std::string& data);
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int stdin_fd_ = -1;
  std::string log_file_;
  int exit_code_ = -1;
  bool exited_ = false;
};

// Polls until a TCP connect to 127.0.0.1:port succeeds (bounded).
bool wait_for_port(unsigned short port,
                   std::chrono::milliseconds timeout = std::chrono::seconds(10));

// An unused TCP port on 127.0.0.1 (bind to 0, read, close).
unsigned short free_port();

}  // namespace testing
