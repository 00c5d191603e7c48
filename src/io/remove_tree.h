/* remove_tree.h: rm -rf for folders clunet itself made (a half-written
 * synthetic dataset, a benchmark's temporary cache). Internal. */
#ifndef CLUNET_REMOVE_TREE_H
#define CLUNET_REMOVE_TREE_H

/* Removes path and everything below it; symlinks are removed, never
 * followed (lstat). Best effort: a missing path or an entry that cannot be
 * removed is skipped silently. */
void cu_remove_tree(const char *path);

#endif
