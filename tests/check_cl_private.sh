#!/bin/sh
# check_cl_private.sh SRC: the OpenCL backend's internal headers
# (src/cl/*.h) are included by src/cl/ alone; everything else reaches the
# device through clunet/backend.h, clunet/ops.h and clunet/cl.h. Prints the
# offending lines and fails when another file includes one.
src="$1"
bad=$(grep -rnE '#include "(cl/)?cl_[a-z_]+\.h"' "$src" --include='*.c' --include='*.h' | grep -v "^$src/cl/")
if [ -n "$bad" ]; then
    echo "OpenCL internals included outside src/cl/:"
    echo "$bad"
    exit 1
fi
echo "ok   no file outside src/cl/ includes its headers"
