// A GoogleTest listener that appends a short summary of the run to the file
// named by the SCHAN_KIT_REPORT environment variable, for the Windows test
// kit's report.txt. It registers itself before main() and does nothing when
// the variable is not set, so the executables it is linked into behave as
// before in every other run.
//
// Lines written, one per test unless stated:
//   failed   Suite.Name: first failure message (one line)
//   skipped  Suite.Name: the GTEST_SKIP() message
//   passed   Suite.Name          (only when SCHAN_KIT_REPORT_PASSED is set)
//   PROGRAM: N passed, N failed, N skipped   (once, at the end)
#include <cstdio>
#include <cstdlib>
#include <string>

#include <gtest/gtest.h>

namespace {

// Joins a multi-line message into one line of at most `max_length` characters.
std::string one_line(const std::string& text, std::size_t max_length = 400)
{
    std::string line;
    for (const char c : text) {
        if (c == '\r')
            continue;
        line += c == '\n' ? ' ' : c;
    }
    while (!line.empty() && line.back() == ' ')
        line.pop_back();
    if (line.size() > max_length)
        line = line.substr(0, max_length) + " ...";
    return line;
}

class KitReportListener : public ::testing::EmptyTestEventListener {
public:
    KitReportListener(std::string report_path, bool list_passed)
        : report_path_(std::move(report_path)), list_passed_(list_passed)
    {
    }

private:
    void OnTestStart(const ::testing::TestInfo&) override { first_message_.clear(); }

    void OnTestPartResult(const ::testing::TestPartResult& result) override
    {
        if (first_message_.empty() && result.message() != nullptr)
            first_message_ = one_line(result.message());
    }

    void OnTestEnd(const ::testing::TestInfo& info) override
    {
        const std::string name = std::string(info.test_suite_name()) + "." + info.name();
        const ::testing::TestResult& result = *info.result();
        if (result.Failed()) {
            ++failed_;
            write_line("failed   " + name + ": " + first_message_);
        } else if (result.Skipped()) {
            ++skipped_;
            write_line("skipped  " + name + ": " + (first_message_.empty() ? "no reason given" : first_message_));
        } else {
            ++passed_;
            if (list_passed_)
                write_line("passed   " + name);
        }
    }

    void OnTestProgramEnd(const ::testing::UnitTest&) override
    {
        write_line(program_name() + ": " + std::to_string(passed_) + " passed, " + std::to_string(failed_) +
                   " failed, " + std::to_string(skipped_) + " skipped");
    }

    static std::string program_name()
    {
        const char* name = std::getenv("SCHAN_KIT_PROGRAM");
        return name != nullptr && *name != '\0' ? name : "tests";
    }

    // Opens the file for each line, so the report keeps every line written
    // before a crash.
    void write_line(const std::string& line) const
    {
        std::FILE* file = std::fopen(report_path_.c_str(), "a");
        if (file == nullptr) {
            std::fprintf(stderr, "cannot append to the report file %s\n", report_path_.c_str());
            return;
        }
        std::fprintf(file, "%s\n", line.c_str());
        std::fclose(file);
    }

    std::string report_path_;
    bool list_passed_;
    std::string first_message_;
    int passed_ = 0;
    int failed_ = 0;
    int skipped_ = 0;
};

bool register_kit_report()
{
    const char* path = std::getenv("SCHAN_KIT_REPORT");
    if (path == nullptr || *path == '\0')
        return false;
    const char* passed = std::getenv("SCHAN_KIT_REPORT_PASSED");
    const bool list_passed = passed != nullptr && *passed != '\0';
    ::testing::UnitTest::GetInstance()->listeners().Append(new KitReportListener(path, list_passed));
    return true;
}

// Static initialisation runs before gtest_main's main(); the listener list
// takes ownership of the listener.
[[maybe_unused]] const bool kit_report_registered = register_kit_report();

} // namespace
