#include <gtest/gtest.h>

#include "core/byte_queue.h"

TEST(ByteQueue, StartsEmpty)
{
    schan::ByteQueue queue;
    EXPECT_TRUE(queue.empty());
}
