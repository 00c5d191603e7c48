/* model_find.h: where models are found without a path, and the fresh output
 * folder a command makes when none is given.
 *
 * A model is named by a path (a .safetensors file, or a run folder meaning
 * its best.safetensors), or by a NAME looked up as NAME.safetensors in the
 * model folders, in this order:
 *   1. each folder of $CLUNET_MODELS (colon-separated), when set;
 *   2. the source tree's models/, when this clunet runs from its build tree;
 *   3. $XDG_DATA_HOME/clunet/models (else ~/.local/share/clunet/models);
 *   4. <prefix>/share/clunet/models, where `meson install` puts models/.
 * The first folder holding NAME wins. No name at all means
 * CU_DEFAULT_MODEL, the model that ships in models/. */
#ifndef CLUNET_MODEL_FIND_H
#define CLUNET_MODEL_FIND_H

#include <stddef.h>

#include "clunet/status.h"

#define CU_DEFAULT_MODEL "nuclei"
#define CU_MODEL_DIRS_MAX 16

/* The model folders above, in search order, existing or not; returns how
 * many (at most CU_MODEL_DIRS_MAX). *why[i] says where folder i comes from
 * ("CLUNET_MODELS", "source tree", "user", "installed"). Strings are static
 * or from the environment: valid until it changes. */
int cu_model_dirs(const char *dirs[CU_MODEL_DIRS_MAX], const char *why[CU_MODEL_DIRS_MAX]);

/* Resolves spec (NULL: the default model) into path. A spec that names an
 * existing file is that file; an existing folder is a run folder (its
 * best.safetensors, else model.safetensors); anything else without a '/'
 * is a name. *by_name (may be NULL) is set when found in a model folder.
 * CU_EINPUT naming spec when nothing is found (listing the folders searched,
 * or the run folder's missing file). */
enum cu_status cu_model_resolve(const char *spec, char *path, size_t len, int *by_name, struct cu_err *err);

/* Whether s names a model file by its extension (".safetensors"). */
int cu_is_model_path(const char *s);

/* Creates a new folder "<prefix>-YYYYMMDD-HHMMSS" (then "-2", "-3", ... if
 * taken) in the current folder and returns its name in out: never an
 * existing folder, so nothing is overwritten. CU_EIO when none can be made. */
enum cu_status cu_new_out_dir(const char *prefix, char *out, size_t len, struct cu_err *err);

#endif
