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
#include <sys/time.h>
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

// Closes a socket handle that no TcpSocket owns (a listening socket).
inline void close_native_socket(NativeSocket handle)
{
#ifdef _WIN32
    closesocket(handle);
#else
    ::close(handle);
#endif
}

class TcpSocket {
public:
    TcpSocket() = default;
    // Takes ownership of a connected socket, for example one from accept().
    explicit TcpSocket(NativeSocket connected) : handle_(connected) {}
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
        if (received < 0 && receive_timeout_seconds_ > 0)
            throw std::runtime_error("receive failed: the connection was reset or the peer sent nothing for " +
                                     std::to_string(receive_timeout_seconds_) + " s");
        if (received < 0)
            throw std::runtime_error("receive failed: the connection was reset");
        return static_cast<std::size_t>(received);
    }

    // Makes receive() fail after `seconds` without data (0 waits forever).
    void set_receive_timeout(int seconds)
    {
#ifdef _WIN32
        const DWORD timeout = static_cast<DWORD>(seconds) * 1000;
#else
        const timeval timeout{seconds, 0};
#endif
        setsockopt(handle_, SOL_SOCKET, SO_RCVTIMEO, reinterpret_cast<const char*>(&timeout), sizeof timeout);
        receive_timeout_seconds_ = seconds;
    }

    // Ends the sending direction; the peer reads end of stream.
    void shutdown_write()
    {
#ifdef _WIN32
        ::shutdown(handle_, SD_SEND);
#else
        ::shutdown(handle_, SHUT_WR);
#endif
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
        close_native_socket(handle_);
        handle_ = kInvalidSocket;
    }

private:
    NativeSocket handle_ = kInvalidSocket;
    int receive_timeout_seconds_ = 0;
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
