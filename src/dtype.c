/* dtype.c: the table of include/clunet/dtype.h. */
#include "clunet/dtype.h"

#include <strings.h>

static const struct cu_dtype_desc table[CU_DTYPE_COUNT] = {
    [CU_F32] = {CU_F32, "F32", 4, 1},
    [CU_F16] = {CU_F16, "F16", 2, 0},
};

const struct cu_dtype_desc *cu_dtype_desc(enum cu_dtype d)
{
    return (unsigned)d < CU_DTYPE_COUNT ? &table[d] : NULL;
}

size_t cu_dtype_size(enum cu_dtype d)
{
    const struct cu_dtype_desc *t = cu_dtype_desc(d);
    return t ? t->size : 0;
}

const char *cu_dtype_name(enum cu_dtype d)
{
    const struct cu_dtype_desc *t = cu_dtype_desc(d);
    return t ? t->name : "?";
}

int cu_dtype_parse(const char *s)
{
    for (int i = 0; s && i < CU_DTYPE_COUNT; i++)
        if (strcasecmp(s, table[i].name) == 0)
            return i;
    return -1;
}
