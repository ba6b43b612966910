// Socket: a blocking TCP client socket on the loopback interface, over
// Winsock on Windows and POSIX sockets elsewhere.
#include <cstring>
#include <stdexcept>
#include <string>

#include "support/peers.h"

#ifdef _WIN32
#include <winsock2.h>
#include <ws2tcpip.h>
#else
#include <cerrno>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>
#endif

namespace schan::test {

namespace {

#ifdef _WIN32
using NativeSocket = SOCKET;
const NativeSocket kInvalidSocket = INVALID_SOCKET;

// Starts Winsock once for the whole test process.
void start_winsock()
{
    static const int started = [] {
        WSADATA data;
        const int result = WSAStartup(MAKEWORD(2, 2), &data);
        if (result != 0)
            throw std::runtime_error("WSAStartup failed with error " + std::to_string(result));
        return result;
    }();
    (void)started;
}

int last_error_code() { return WSAGetLastError(); }
bool is_timeout(int code) { return code == WSAETIMEDOUT || code == WSAEWOULDBLOCK; }
std::string error_text(int code) { return "Winsock error " + std::to_string(code); }
void close_native(NativeSocket handle) { closesocket(handle); }
const int kShutdownWrite = SD_SEND;
const int kSendFlags = 0;
#else
using NativeSocket = int;
const NativeSocket kInvalidSocket = -1;

void start_winsock() {}
int last_error_code() { return errno; }
bool is_timeout(int code) { return code == EAGAIN || code == EWOULDBLOCK; }
std::string error_text(int code) { return std::strerror(code); }
void close_native(NativeSocket handle) { ::close(handle); }
const int kShutdownWrite = SHUT_WR;
const int kSendFlags = MSG_NOSIGNAL;  // a closed peer gives EPIPE, not SIGPIPE
#endif

NativeSocket native(std::intptr_t handle)
{
    return static_cast<NativeSocket>(handle);
}

bool is_loopback(const sockaddr* address)
{
    if (address->sa_family == AF_INET) {
        const auto* ipv4 = reinterpret_cast<const sockaddr_in*>(address);
        return (ntohl(ipv4->sin_addr.s_addr) >> 24) == 127;
    }
    if (address->sa_family == AF_INET6) {
        const auto* ipv6 = reinterpret_cast<const sockaddr_in6*>(address);
        return std::memcmp(&ipv6->sin6_addr, &in6addr_loopback, sizeof(in6addr_loopback)) == 0;
    }
    return false;
}

void set_timeouts(NativeSocket handle, std::chrono::milliseconds timeout)
{
#ifdef _WIN32
    const DWORD value = static_cast<DWORD>(timeout.count());
#else
    timeval value{};
    value.tv_sec = static_cast<time_t>(timeout.count() / 1000);
    value.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
#endif
    const auto* option = reinterpret_cast<const char*>(&value);
    if (setsockopt(handle, SOL_SOCKET, SO_RCVTIMEO, option, sizeof(value)) != 0 ||
        setsockopt(handle, SOL_SOCKET, SO_SNDTIMEO, option, sizeof(value)) != 0)
        throw std::runtime_error("setting the socket timeouts failed: " + error_text(last_error_code()));
}

} // namespace

Socket Socket::connect(const std::string& host, std::uint16_t port, std::chrono::milliseconds receive_timeout)
{
    start_winsock();

    // Tests connect only to loopback addresses, numeric or "localhost", so no
    // test reaches another host and no DNS query leaves the machine.
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = host == "localhost" ? 0 : AI_NUMERICHOST;
    addrinfo* addresses = nullptr;
    const std::string service = std::to_string(port);
    const int resolved = getaddrinfo(host.c_str(), service.c_str(), &hints, &addresses);
    if (resolved != 0)
        throw std::runtime_error("Socket::connect: '" + host +
                                 "' is not a numeric address; use 127.0.0.1, ::1 or localhost");

    std::string failure = "no loopback address";
    NativeSocket handle = kInvalidSocket;
    for (addrinfo* address = addresses; address != nullptr; address = address->ai_next) {
        if (!is_loopback(address->ai_addr)) {
            failure = "'" + host + "' is not a loopback address; tests connect only to 127.0.0.1 or ::1";
            continue;
        }
        handle = ::socket(address->ai_family, address->ai_socktype, address->ai_protocol);
        if (handle == kInvalidSocket) {
            failure = "socket() failed: " + error_text(last_error_code());
            continue;
        }
        if (::connect(handle, address->ai_addr, static_cast<int>(address->ai_addrlen)) == 0)
            break;
        failure = "connect failed: " + error_text(last_error_code());
        close_native(handle);
        handle = kInvalidSocket;
    }
    freeaddrinfo(addresses);
    if (handle == kInvalidSocket)
        throw std::runtime_error("Socket::connect to " + host + " port " + service + ": " + failure);

    Socket socket(static_cast<std::intptr_t>(handle));
    set_timeouts(handle, receive_timeout);

    // Handshake flights are small writes, which Nagle's algorithm would delay.
    const int no_delay = 1;
    setsockopt(handle, IPPROTO_TCP, TCP_NODELAY, reinterpret_cast<const char*>(&no_delay), sizeof(no_delay));
    return socket;
}

Socket::Socket(Socket&& other) noexcept : handle_(other.handle_)
{
    other.handle_ = -1;
}

Socket& Socket::operator=(Socket&& other) noexcept
{
    if (this != &other) {
        close();
        handle_ = other.handle_;
        other.handle_ = -1;
    }
    return *this;
}

Socket::~Socket()
{
    close();
}

void Socket::send_all(const std::uint8_t* data, std::size_t length)
{
    if (handle_ == -1)
        throw std::runtime_error("Socket::send_all: the socket is closed");
    while (length > 0) {
        const int chunk = length > 65536 ? 65536 : static_cast<int>(length);
        const auto sent = ::send(native(handle_), reinterpret_cast<const char*>(data), chunk, kSendFlags);
        if (sent < 0) {
            const int code = last_error_code();
            throw std::runtime_error(is_timeout(code) ? std::string("send timed out: the peer stopped reading")
                                                      : "send failed: " + error_text(code));
        }
        data += sent;
        length -= static_cast<std::size_t>(sent);
    }
}

void Socket::send_all(const std::string& data)
{
    send_all(reinterpret_cast<const std::uint8_t*>(data.data()), data.size());
}

std::size_t Socket::receive(std::uint8_t* buffer, std::size_t capacity)
{
    if (handle_ == -1)
        throw std::runtime_error("Socket::receive: the socket is closed");
    const int chunk = capacity > 65536 ? 65536 : static_cast<int>(capacity);
    const auto received = ::recv(native(handle_), reinterpret_cast<char*>(buffer), chunk, 0);
    if (received < 0) {
        const int code = last_error_code();
        throw std::runtime_error(is_timeout(code) ? std::string("receive timed out: the peer sent nothing")
                                                  : "receive failed: " + error_text(code));
    }
    return static_cast<std::size_t>(received);
}

void Socket::shutdown_write()
{
    if (handle_ != -1)
        ::shutdown(native(handle_), kShutdownWrite);
}

void Socket::close()
{
    if (handle_ == -1)
        return;
    close_native(native(handle_));
    handle_ = -1;
}

} // namespace schan::test
