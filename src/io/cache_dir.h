/* cache_dir.h: clunet's per-user cache folder, shared by the kernel binary
 * cache (cl/cl_program.c) and the decoded-mask cache (mask_cache.c).
 * Leaves out: what goes in it (each user of the folder owns its files). */
#ifndef CLUNET_CACHE_DIR_H
#define CLUNET_CACHE_DIR_H

#include <stddef.h>

/* Writes $XDG_CACHE_HOME/clunet[/sub] (XDG_CACHE_HOME must be absolute),
 * else $HOME/.cache/clunet[/sub], into out and creates it (mode 0700, like
 * mkdir -p). sub may be NULL. Returns 0, or -1 with out = "" and why set to
 * a short reason (no HOME, path too long for out less reserve bytes, or the
 * mkdir failure with errno's text). */
int cu_cache_dir(const char *sub, char *out, size_t size, size_t reserve, char *why, size_t why_size);

#endif
