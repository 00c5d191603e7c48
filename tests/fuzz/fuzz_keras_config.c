/* fuzz_keras_config.c: libFuzzer target for the Keras model configuration
 * reader (io/keras_arch.c): the JSON of an .h5 file's model_config or a
 * .keras archive's config.json, walked as a graph from the output layer
 * (Keras 2 and 3 node formats, Dropout chains, cycles, missing layers,
 * every layer setting) and mapped onto clunet's U-Net. */
#include "fuzz.h"

#include <string.h>

#include "io/keras_arch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cu_keras_arch arch;
    struct cu_err err = {0};
    if (cu_keras_arch_parse((const char *)data, size, "fuzz.h5", &arch, &err))
        return 0;
    volatile size_t sink = 0;
    for (int i = 0; i < arch.n; i++) /* every mapped name is a terminated string */
        sink += strlen(arch.map[i].keras) + strlen(arch.map[i].saved) + strlen(arch.map[i].clunet);
    (void)sink;
    return 0;
}
