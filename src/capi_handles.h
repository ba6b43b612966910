// The structs behind the opaque handles of schan.h. Only capi.cpp and tests
// that inspect a session's internal state include this header.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/backend.h"
#include "core/config.h"
#include "core/session.h"
#include "schan/schan.h"

struct schan_config {
    schan::Config settings;
    std::string last_error;
};

struct schan_session {
    schan_session(schan::Role role, std::unique_ptr<schan::Backend> backend, std::uint16_t min_version)
        : core(role, std::move(backend), min_version)
    {
    }
    schan::Session core;
};
