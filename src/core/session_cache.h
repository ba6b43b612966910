// A thread-safe cache of serialized TLS sessions for client resumption,
// shared by the client sessions created from one schan_config.
#pragma once

#include <cstddef>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/secure_memory.h"

namespace schan {

class SessionCache {
public:
    // A session in the backend's own serialized form. It contains the
    // session's master secret, so it is wiped when released.
    using Blob = std::vector<unsigned char, WipingAllocator<unsigned char>>;

    // Adds a session under `key`. A single-use session (a TLS 1.3 ticket) is
    // removed when take() returns it; a reusable one (TLS 1.2) stays. Keeps at
    // most kMaxPerKey sessions per key and drops the oldest first.
    void store(const std::string& key, Blob session, bool single_use)
    {
        const std::lock_guard lock(mutex_);
        auto& entries = entries_[key];
        entries.push_back({std::move(session), single_use});
        while (entries.size() > kMaxPerKey)
            entries.pop_front();
    }

    // Returns the newest session stored under `key`, or std::nullopt.
    std::optional<Blob> take(const std::string& key)
    {
        const std::lock_guard lock(mutex_);
        const auto found = entries_.find(key);
        if (found == entries_.end() || found->second.empty())
            return std::nullopt;

        auto& entries = found->second;
        if (!entries.back().single_use)
            return entries.back().session;
        Blob session = std::move(entries.back().session);
        entries.pop_back();
        return session;
    }

private:
    // OpenSSL 3 servers send 2 TLS 1.3 tickets per handshake by default.
    static constexpr std::size_t kMaxPerKey = 4;

    struct Entry {
        Blob session;
        bool single_use = false;
    };

    std::mutex mutex_;
    std::map<std::string, std::deque<Entry>> entries_;
};

} // namespace schan
