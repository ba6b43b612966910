// A child process with pipes on its standard input, output and error, for
// running schan-server and schan-client from the kit tests. Works on
// Windows (CreateProcess) and POSIX systems (fork and exec).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace schan::kit {

class ChildProcess {
public:
    // Starts argv[0] with the arguments that follow; throws
    // std::runtime_error when it cannot be started.
    explicit ChildProcess(const std::vector<std::string>& argv);
    ~ChildProcess();  // kills the process if it still runs
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;

    void write_stdin(const std::string& text);
    // Closes standard input, so the process reads end of file.
    void close_stdin();

    [[nodiscard]] std::string standard_output() const;
    [[nodiscard]] std::string error_output() const;

    // Waits until the standard output contains `text`; false on timeout.
    bool wait_for_output(const std::string& text, std::chrono::milliseconds timeout) const;

    // Waits for the process to exit and returns its exit code, or -1 on
    // timeout. Returns once both output pipes reached end of file.
    int wait(std::chrono::milliseconds timeout);

    void kill();

private:
    void read_pipe(std::intptr_t pipe, std::string& target);
    void join_readers();

    std::intptr_t process_ = -1;  // HANDLE on Windows, pid elsewhere
    std::intptr_t stdin_pipe_ = -1;
    std::thread stdout_reader_;
    std::thread stderr_reader_;
    mutable std::mutex mutex_;
    mutable std::condition_variable output_changed_;
    std::string stdout_;
    std::string stderr_;
    int exit_code_ = -1;
    bool exited_ = false;
};

} // namespace schan::kit
