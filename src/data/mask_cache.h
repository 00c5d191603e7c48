/* mask_cache.h: the union of a DSB2018 sample's per-nucleus masks, through
 * an on-disk cache of decoded unions (mask_cache.c says how it is keyed and
 * checked). Internal to the dataset layer. */
#ifndef CLUNET_MASK_CACHE_H
#define CLUNET_MASK_CACHE_H

#include "data/dataset_impl.h"

/* u (h x w) = 1 where any of dir/names[0..n) is non-zero, else 0; every
 * mask must be h x w (else CU_EINPUT naming it). From the cache when a
 * valid entry matches the files as they are now. */
enum cu_status cu_mask_cache_union(const char *dir, char **names, int n, int h, int w, float *u,
                                   struct cu_err *err);

#endif
