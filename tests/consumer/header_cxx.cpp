#include <schan/schan.h>  // The public header compiles as C++ with -Wall -Wextra -Werror.
