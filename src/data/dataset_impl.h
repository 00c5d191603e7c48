/* dataset_impl.h: helpers shared by dataset_scan.c, dataset.c and
 * dataset_labels.c (folder listing, paths, the union mask); not a public
 * interface. */
#ifndef CLUNET_DATASET_IMPL_H
#define CLUNET_DATASET_IMPL_H

#include "clunet/dataset.h"

enum cu_dir_want { CU_DIR_SUBDIRS, CU_DIR_IMAGES, CU_DIR_OTHER_FILES };

/* Sorted (strcmp) names in dir: sub-folders, regular files with an image
 * name (cu_is_image_name), or the other regular files; hidden names are
 * skipped. CU_EINPUT if dir cannot be read. */
enum cu_status cu_dir_list(const char *dir, enum cu_dir_want want, char ***names, int *n, struct cu_err *err);
void cu_names_free(char **names, int n);
/* 1 when name ends in .png, .tif, .tiff, .jpg or .jpeg (any case). */
int cu_is_image_name(const char *name);
int cu_is_dir(const char *path);
int cu_is_file(const char *path);
/* malloc'd "a/b"; NULL when out of memory. */
char *cu_path_join(const char *a, const char *b);

/* Union of the masks of s as 0/1 floats, (h, w), the image's size; each
 * mask of another size is an error naming the mask. */
enum cu_status cu_sample_union(const struct cu_sample *s, enum cu_layout l, int h, int w, float *u,
                               struct cu_err *err);

#endif
