// Everything this shim adds is `static inline` or `static const` in include/CAMQPShim.h;
// a C target needs one source file.
#include "CAMQPShim.h"
