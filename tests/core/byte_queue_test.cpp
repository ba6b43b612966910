#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include "core/byte_queue.h"

namespace {

std::vector<std::byte> bytes_of(const char* text)
{
    std::vector<std::byte> out(std::strlen(text));
    std::memcpy(out.data(), text, out.size());
    return out;
}

std::string text_of(gsl::span<const std::byte> bytes)
{
    return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

} // namespace

TEST(ByteQueue, StartsEmpty)
{
    schan::ByteQueue queue;
    EXPECT_TRUE(queue.empty());
    EXPECT_EQ(queue.size(), 0u);
}

TEST(ByteQueue, KeepsOrderAcrossAppendAndConsume)
{
    schan::ByteQueue queue;
    queue.append(bytes_of("hello "));
    queue.append(bytes_of("world"));
    queue.consume(2);

    EXPECT_EQ(text_of(queue.data()), "llo world");
}

TEST(ByteQueue, ReadIntoCopiesAndConsumes)
{
    schan::ByteQueue queue;
    queue.append(bytes_of("abcdef"));
    std::vector<std::byte> out(4);

    EXPECT_EQ(queue.read_into(out), 4u);
    EXPECT_EQ(text_of(out), "abcd");
    EXPECT_EQ(text_of(queue.data()), "ef");
}

TEST(ByteQueue, PrepareAndCommitPartOfTheSpace)
{
    schan::ByteQueue queue;
    queue.append(bytes_of("ab"));
    auto space = queue.prepare(10);
    ASSERT_EQ(space.size(), 10u);
    std::memcpy(space.data(), "cdXXXXXXXX", 10);
    queue.commit(2);

    EXPECT_EQ(text_of(queue.data()), "abcd");
}

TEST(ByteQueue, ReusesStorageWhenDrainedAsFilled)
{
    schan::ByteQueue queue(1024);
    std::vector<std::byte> chunk(700, std::byte{1});
    queue.append(chunk);
    queue.append(chunk);  // the peak size: two chunks
    queue.consume(700);
    const auto capacity = queue.capacity();

    for (int i = 0; i < 1000; ++i) {
        queue.append(chunk);
        queue.consume(700);
    }
    EXPECT_EQ(queue.capacity(), capacity);
    EXPECT_EQ(queue.size(), 700u);
}

TEST(ByteQueue, RandomOperationsMatchAReference)
{
    std::mt19937 random(7);
    schan::ByteQueue queue;
    std::vector<std::byte> reference;
    std::uint8_t next = 0;

    for (int i = 0; i < 5000; ++i) {
        if (random() % 2 == 0) {
            std::vector<std::byte> chunk(random() % 3000);
            for (auto& b : chunk)
                b = std::byte{next++};
            queue.append(chunk);
            reference.insert(reference.end(), chunk.begin(), chunk.end());
        } else {
            const std::size_t count = reference.empty() ? 0 : random() % (reference.size() + 1);
            queue.consume(count);
            reference.erase(reference.begin(), reference.begin() + static_cast<std::ptrdiff_t>(count));
        }
        ASSERT_EQ(queue.size(), reference.size());
    }
    EXPECT_TRUE(std::equal(reference.begin(), reference.end(), queue.data().begin()));
}
