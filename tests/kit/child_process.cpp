#include "child_process.h"

#include <stdexcept>

#ifdef _WIN32
#include <windows.h>
#else
#include <csignal>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>
#endif

namespace schan::kit {

namespace {

constexpr std::chrono::milliseconds kPollInterval{20};

#ifdef _WIN32
HANDLE as_handle(std::intptr_t value)
{
    return reinterpret_cast<HANDLE>(value);
}

// Quotes one argument by the rules of CommandLineToArgvW.
std::string quote_argument(const std::string& argument)
{
    if (!argument.empty() && argument.find_first_of(" \t\"") == std::string::npos)
        return argument;

    std::string quoted = "\"";
    std::size_t backslashes = 0;
    for (const char c : argument) {
        if (c == '\\') {
            ++backslashes;
            continue;
        }
        quoted.append(c == '"' ? backslashes * 2 + 1 : backslashes, '\\');
        backslashes = 0;
        quoted += c;
    }
    quoted.append(backslashes * 2, '\\');
    return quoted + "\"";
}

// Creates a pipe whose end `child_end` (0 read, 1 write) the child inherits.
void make_pipe(HANDLE ends[2], int child_end)
{
    SECURITY_ATTRIBUTES attributes{sizeof attributes, nullptr, TRUE};
    if (!CreatePipe(&ends[0], &ends[1], &attributes, 0))
        throw std::runtime_error("CreatePipe failed with error " + std::to_string(GetLastError()));
    SetHandleInformation(ends[1 - child_end], HANDLE_FLAG_INHERIT, 0);
}
#endif

} // namespace

#ifdef _WIN32

ChildProcess::ChildProcess(const std::vector<std::string>& argv)
{
    std::string command_line;
    for (const auto& argument : argv)
        command_line += (command_line.empty() ? "" : " ") + quote_argument(argument);

    HANDLE input[2];
    HANDLE output[2];
    HANDLE error[2];
    make_pipe(input, 0);
    make_pipe(output, 1);
    make_pipe(error, 1);

    STARTUPINFOA startup{};
    startup.cb = sizeof startup;
    startup.dwFlags = STARTF_USESTDHANDLES;
    startup.hStdInput = input[0];
    startup.hStdOutput = output[1];
    startup.hStdError = error[1];
    PROCESS_INFORMATION info{};
    const BOOL started = CreateProcessA(argv.front().c_str(), command_line.data(), nullptr, nullptr, TRUE, 0,
                                        nullptr, nullptr, &startup, &info);
    const DWORD start_error = GetLastError();
    CloseHandle(input[0]);
    CloseHandle(output[1]);
    CloseHandle(error[1]);
    if (!started) {
        CloseHandle(input[1]);
        CloseHandle(output[0]);
        CloseHandle(error[0]);
        throw std::runtime_error("cannot start " + argv.front() + ": CreateProcess failed with error " +
                                 std::to_string(start_error));
    }
    CloseHandle(info.hThread);

    process_ = reinterpret_cast<std::intptr_t>(info.hProcess);
    stdin_pipe_ = reinterpret_cast<std::intptr_t>(input[1]);
    stdout_reader_ = std::thread([this, pipe = reinterpret_cast<std::intptr_t>(output[0])] { read_pipe(pipe, stdout_); });
    stderr_reader_ = std::thread([this, pipe = reinterpret_cast<std::intptr_t>(error[0])] { read_pipe(pipe, stderr_); });
}

void ChildProcess::read_pipe(std::intptr_t pipe, std::string& target)
{
    char buffer[4096];
    DWORD received = 0;
    while (ReadFile(as_handle(pipe), buffer, sizeof buffer, &received, nullptr) && received > 0) {
        std::lock_guard lock(mutex_);
        target.append(buffer, received);
        output_changed_.notify_all();
    }
    CloseHandle(as_handle(pipe));
}

void ChildProcess::write_stdin(const std::string& text)
{
    DWORD written = 0;
    if (stdin_pipe_ != -1)
        WriteFile(as_handle(stdin_pipe_), text.data(), static_cast<DWORD>(text.size()), &written, nullptr);
}

void ChildProcess::close_stdin()
{
    if (stdin_pipe_ != -1)
        CloseHandle(as_handle(stdin_pipe_));
    stdin_pipe_ = -1;
}

int ChildProcess::wait(std::chrono::milliseconds timeout)
{
    if (!exited_) {
        if (WaitForSingleObject(as_handle(process_), static_cast<DWORD>(timeout.count())) != WAIT_OBJECT_0)
            return -1;
        DWORD code = 0;
        GetExitCodeProcess(as_handle(process_), &code);
        exit_code_ = static_cast<int>(code);
        exited_ = true;
    }
    join_readers();
    return exit_code_;
}

void ChildProcess::kill()
{
    if (!exited_) {
        TerminateProcess(as_handle(process_), 1);
        wait(std::chrono::milliseconds(10000));
    }
}

ChildProcess::~ChildProcess()
{
    close_stdin();
    kill();
    join_readers();
    CloseHandle(as_handle(process_));
}

#else

ChildProcess::ChildProcess(const std::vector<std::string>& argv)
{
    int input[2];
    int output[2];
    int error[2];
    if (pipe2(input, O_CLOEXEC) != 0 || pipe2(output, O_CLOEXEC) != 0 || pipe2(error, O_CLOEXEC) != 0)
        throw std::runtime_error("pipe2 failed");

    std::vector<char*> arguments;
    for (const auto& argument : argv)
        arguments.push_back(const_cast<char*>(argument.c_str()));
    arguments.push_back(nullptr);

    const pid_t pid = fork();
    if (pid == 0) {
        dup2(input[0], 0);
        dup2(output[1], 1);
        dup2(error[1], 2);
        execv(arguments[0], arguments.data());
        _exit(127);
    }
    close(input[0]);
    close(output[1]);
    close(error[1]);
    if (pid < 0)
        throw std::runtime_error("cannot start " + argv.front() + ": fork failed");

    signal(SIGPIPE, SIG_IGN);  // a child that exits early must not end the test
    process_ = pid;
    stdin_pipe_ = input[1];
    stdout_reader_ = std::thread([this, pipe = output[0]] { read_pipe(pipe, stdout_); });
    stderr_reader_ = std::thread([this, pipe = error[0]] { read_pipe(pipe, stderr_); });
}

void ChildProcess::read_pipe(std::intptr_t pipe, std::string& target)
{
    char buffer[4096];
    ssize_t received = 0;
    while ((received = read(static_cast<int>(pipe), buffer, sizeof buffer)) > 0) {
        std::lock_guard lock(mutex_);
        target.append(buffer, static_cast<std::size_t>(received));
        output_changed_.notify_all();
    }
    close(static_cast<int>(pipe));
}

void ChildProcess::write_stdin(const std::string& text)
{
    std::size_t offset = 0;
    while (stdin_pipe_ != -1 && offset < text.size()) {
        const ssize_t written = write(static_cast<int>(stdin_pipe_), text.data() + offset, text.size() - offset);
        if (written <= 0)
            return;
        offset += static_cast<std::size_t>(written);
    }
}

void ChildProcess::close_stdin()
{
    if (stdin_pipe_ != -1)
        close(static_cast<int>(stdin_pipe_));
    stdin_pipe_ = -1;
}

int ChildProcess::wait(std::chrono::milliseconds timeout)
{
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!exited_) {
        int status = 0;
        const pid_t done = waitpid(static_cast<pid_t>(process_), &status, WNOHANG);
        if (done == static_cast<pid_t>(process_)) {
            exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            exited_ = true;
        } else if (std::chrono::steady_clock::now() >= deadline) {
            return -1;
        } else {
            std::this_thread::sleep_for(kPollInterval);
        }
    }
    join_readers();
    return exit_code_;
}

void ChildProcess::kill()
{
    if (!exited_) {
        ::kill(static_cast<pid_t>(process_), SIGKILL);
        wait(std::chrono::milliseconds(10000));
    }
}

ChildProcess::~ChildProcess()
{
    close_stdin();
    kill();
    join_readers();
}

#endif

void ChildProcess::join_readers()
{
    if (stdout_reader_.joinable())
        stdout_reader_.join();
    if (stderr_reader_.joinable())
        stderr_reader_.join();
}

std::string ChildProcess::standard_output() const
{
    std::lock_guard lock(mutex_);
    return stdout_;
}

std::string ChildProcess::error_output() const
{
    std::lock_guard lock(mutex_);
    return stderr_;
}

bool ChildProcess::wait_for_output(const std::string& text, std::chrono::milliseconds timeout) const
{
    std::unique_lock lock(mutex_);
    return output_changed_.wait_for(lock, timeout, [&] { return stdout_.find(text) != std::string::npos; });
}

} // namespace schan::kit
