// A minimal blocking TCP client socket for the command-line tools, over
// Winsock on Windows and POSIX sockets elsewhere.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

#ifdef _WIN32
#include <winsock2.h>
#include <ws2tcpip.h>
#else
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#endif

namespace schan::tools {

#ifdef _WIN32
using NativeSocket = SOCKET;
inline constexpr NativeSocket kInvalidSocket = INVALID_SOCKET;
#else
using NativeSocket = int;
inline constexpr NativeSocket kInvalidSocket = -1;
#endif

class TcpSocket {
public:
    TcpSocket() = default;
    TcpSocket(const TcpSocket&) = delete;
    TcpSocket& operator=(const TcpSocket&) = delete;
    ~TcpSocket() { close(); }

    // Connects to host:port, trying every address the resolver returns.
    void connect(const std::string& host, const std::string& port)
    {
        addrinfo hints{};
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        addrinfo* addresses = nullptr;
        const int resolved = getaddrinfo(host.c_str(), port.c_str(), &hints, &addresses);
        if (resolved != 0)
            throw std::runtime_error("cannot resolve '" + host + "': " + gai_strerror(resolved));

        for (addrinfo* address = addresses; address != nullptr; address = address->ai_next) {
            handle_ = ::socket(address->ai_family, address->ai_socktype, address->ai_protocol);
            if (handle_ == kInvalidSocket)
                continue;
            if (::connect(handle_, address->ai_addr, static_cast<int>(address->ai_addrlen)) == 0)
                break;
            close();
        }
        freeaddrinfo(addresses);
        if (handle_ == kInvalidSocket)
            throw std::runtime_error("cannot connect to " + host + " port " + port);
    }

    void send_all(const std::uint8_t* data, std::size_t length)
    {
        while (length > 0) {
            const int chunk = length > 65536 ? 65536 : static_cast<int>(length);
            const auto sent = ::send(handle_, reinterpret_cast<const char*>(data), chunk, 0);
            if (sent <= 0)
                throw std::runtime_error("send failed: the connection was closed or reset");
            data += sent;
            length -= static_cast<std::size_t>(sent);
        }
    }

    // Returns the number of bytes read; 0 means the peer ended the stream.
    std::size_t receive(std::uint8_t* buffer, std::size_t capacity)
    {
        const int chunk = capacity > 65536 ? 65536 : static_cast<int>(capacity);
        const auto received = ::recv(handle_, reinterpret_cast<char*>(buffer), chunk, 0);
        if (received < 0)
            throw std::runtime_error("receive failed: the connection was reset");
        return static_cast<std::size_t>(received);
    }

    // Waits up to timeout_ms for readable data (or end of stream).
    bool wait_readable(int timeout_ms)
    {
#ifdef _WIN32
        fd_set readable;
        FD_ZERO(&readable);
        FD_SET(handle_, &readable);
        timeval timeout{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
        return ::select(0, &readable, nullptr, nullptr, &timeout) > 0;
#else
        pollfd descriptor{handle_, POLLIN, 0};
        return ::poll(&descriptor, 1, timeout_ms) > 0;
#endif
    }

    void close()
    {
        if (handle_ == kInvalidSocket)
            return;
#ifdef _WIN32
        closesocket(handle_);
#else
        ::close(handle_);
#endif
        handle_ = kInvalidSocket;
    }

private:
    NativeSocket handle_ = kInvalidSocket;
};

// Starts Winsock for the life of the object; nothing to do elsewhere.
class NetworkLibrary {
public:
    NetworkLibrary()
    {
#ifdef _WIN32
        WSADATA data;
        if (WSAStartup(MAKEWORD(2, 2), &data) != 0)
            throw std::runtime_error("WSAStartup failed");
#endif
    }
    NetworkLibrary(const NetworkLibrary&) = delete;
    NetworkLibrary& operator=(const NetworkLibrary&) = delete;
    ~NetworkLibrary()
    {
#ifdef _WIN32
        WSACleanup();
#endif
    }
};

} // namespace schan::tools
