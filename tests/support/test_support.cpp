// Placeholder until the peer-control client lands.
namespace schan::test {
int placeholder = 0;
}
