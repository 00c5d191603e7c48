/* keras_import.c: Keras .h5 / .keras models into clunet model files
 * (keras_import.h). The file is read whole; an .h5 file and a .keras
 * archive's model.weights.h5 are opened from memory through libhdf5's
 * core driver. Where the weights live:
 *   .h5      model_weights/<layer>/.../{kernel,bias}[:0] (Keras 2 and 3)
 *   .keras   layers/<layer>/vars/{0,1}
 * Each layer's group holds exactly one 4-D dataset (the kernel) and one
 * 1-D dataset (the bias); which is which follows from the rank. */
#include "clunet/keras_import.h"

#include <hdf5.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clunet/model_file.h"
#include "clunet/util.h"
#include "io/keras_arch.h"
#include "io/zip_read.h"

struct source {
    const char *path;
    hid_t file;            /* the HDF5 file holding the weights */
    const char *root;      /* "model_weights" or "layers" */
    int by_class;          /* layers named as keras_arch.h's saved, not by their names */
    char *config;          /* the model configuration JSON */
    size_t config_len;
    char keras_version[64];
};

static hid_t open_image(const unsigned char *buf, size_t len)
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS), f = H5I_INVALID_HID;
    if (fapl >= 0 && H5Pset_fapl_core(fapl, 1 << 20, 0) >= 0 && H5Pset_file_image(fapl, (void *)buf, len) >= 0)
        f = H5Fopen("keras-model-in-memory", H5F_ACC_RDONLY, fapl);
    if (fapl >= 0)
        H5Pclose(fapl);
    return f;
}

/* A string attribute (variable or fixed length) as a malloc'd string. */
static char *str_attr(hid_t loc, const char *obj, const char *name, size_t *len)
{
    if (H5Aexists_by_name(loc, obj, name, H5P_DEFAULT) <= 0)
        return NULL;
    hid_t a = H5Aopen_by_name(loc, obj, name, H5P_DEFAULT, H5P_DEFAULT);
    hid_t t = a >= 0 ? H5Aget_type(a) : H5I_INVALID_HID, s = a >= 0 ? H5Aget_space(a) : H5I_INVALID_HID;
    char *out = NULL;
    if (t >= 0 && s >= 0 && H5Tget_class(t) == H5T_STRING && H5Sget_simple_extent_npoints(s) == 1) {
        hid_t mt = H5Tcopy(H5T_C_S1);
        if (H5Tis_variable_str(t) > 0) {
            char *v = NULL;
            H5Tset_size(mt, H5T_VARIABLE);
            if (H5Aread(a, mt, &v) >= 0 && v) {
                out = strdup(v);
                H5free_memory(v);
            }
        } else {
            size_t n = H5Tget_size(t);
            H5Tset_size(mt, n + 1);
            out = n < ((size_t)1 << 30) ? calloc(n + 2, 1) : NULL;
            if (out && H5Aread(a, mt, out) < 0) {
                free(out);
                out = NULL;
            }
        }
        H5Tclose(mt);
    }
    if (s >= 0)
        H5Sclose(s);
    if (t >= 0)
        H5Tclose(t);
    if (a >= 0)
        H5Aclose(a);
    if (out && len)
        *len = strlen(out);
    return out;
}

static enum cu_status open_h5(struct source *src, const unsigned char *buf, size_t len, struct cu_err *err)
{
    if ((src->file = open_image(buf, len)) < 0)
        return cu_fail(err, CU_EINPUT, "%s: cannot be read as HDF5 (truncated or damaged?)", src->path);
    src->root = "model_weights";
    if (!(src->config = str_attr(src->file, ".", "model_config", &src->config_len)))
        return cu_fail(err, CU_EINPUT,
                       "%s: no model_config attribute (a weights-only file? import needs a file written by "
                       "model.save)",
                       src->path);
    char *v = str_attr(src->file, ".", "keras_version", NULL);
    snprintf(src->keras_version, sizeof src->keras_version, "%s", v ? v : "unknown");
    free(v);
    return CU_OK;
}

/* config.json and metadata.json of a .keras archive; its weights are
 * opened by open_keras_weights once the configuration has passed. */
static enum cu_status open_keras(struct source *src, const unsigned char *buf, size_t len, struct cu_err *err)
{
    unsigned char *cfg = NULL, *meta = NULL;
    size_t meta_len;
    enum cu_status st = cu_zip_extract(buf, len, "config.json", src->path, &cfg, &src->config_len, err);
    src->config = (char *)cfg, src->root = "layers", src->by_class = 1;
    snprintf(src->keras_version, sizeof src->keras_version, "unknown");
    if (!st && !cu_zip_extract(buf, len, "metadata.json", src->path, &meta, &meta_len, NULL)) {
        json_t *m = json_loadb((const char *)meta, meta_len, 0, NULL);
        const char *v = json_string_value(json_object_get(m, "keras_version"));
        if (v)
            snprintf(src->keras_version, sizeof src->keras_version, "%s", v);
        json_decref(m);
        free(meta);
    }
    return st;
}

static enum cu_status open_keras_weights(struct source *src, const unsigned char *buf, size_t len,
                                         struct cu_err *err)
{
    unsigned char *w = NULL;
    size_t w_len;
    CU_TRY(cu_zip_extract(buf, len, "model.weights.h5", src->path, &w, &w_len, err));
    src->file = open_image(w, w_len);
    free(w);
    if (src->file < 0)
        return cu_fail(err, CU_EINPUT, "%s: model.weights.h5 cannot be read as HDF5 (damaged?)", src->path);
    return CU_OK;
}

/* The datasets under one layer's group: the kernel (4-D) and bias (1-D). */
struct layer_sets {
    char kernel[256], bias[256];
    int n_kernel, n_bias, n_other;
};

static herr_t visit(hid_t g, const char *name, const H5L_info_t *info, void *data)
{
    struct layer_sets *ls = data;
    if (info->type != H5L_TYPE_HARD)
        return 0;
    hid_t o = H5Oopen(g, name, H5P_DEFAULT);
    if (o < 0)
        return 0;
    if (H5Iget_type(o) == H5I_DATASET) {
        hid_t s = H5Dget_space(o);
        int nd = s >= 0 ? H5Sget_simple_extent_ndims(s) : -1;
        if (nd == 4 && ls->n_kernel++ == 0)
            snprintf(ls->kernel, sizeof ls->kernel, "%s", name);
        else if (nd == 1 && ls->n_bias++ == 0)
            snprintf(ls->bias, sizeof ls->bias, "%s", name);
        else if (nd != 4 && nd != 1)
            ls->n_other++;
        if (s >= 0)
            H5Sclose(s);
    }
    H5Oclose(o);
    return 0;
}

/* Reads dataset name under group g as float32 into a malloc'd buffer after
 * checking its shape against want[0..nd). */
static enum cu_status read_set(const struct source *src, hid_t g, const char *layer, const char *name, int nd,
                               const hsize_t *want, float **out, struct cu_err *err)
{
    hid_t d = H5Dopen2(g, name, H5P_DEFAULT);
    hid_t s = d >= 0 ? H5Dget_space(d) : H5I_INVALID_HID, t = d >= 0 ? H5Dget_type(d) : H5I_INVALID_HID;
    hsize_t dims[4] = {0};
    enum cu_status st = CU_OK;
    if (s < 0 || t < 0 || H5Sget_simple_extent_dims(s, dims, NULL) != nd)
        st = cu_fail(err, CU_EINPUT, "%s: layer %s: %s cannot be read", src->path, layer, name);
    else if (H5Tget_class(t) != H5T_FLOAT)
        st = cu_fail(err, CU_EINPUT, "%s: layer %s: %s is not a float array", src->path, layer, name);
    size_t numel = 1;
    for (int i = 0; i < nd && !st; i++) {
        numel *= (size_t)dims[i];
        if (dims[i] != want[i]) {
            char got[96] = "", exp[96] = "";
            for (int j = 0; j < nd; j++) {
                snprintf(got + strlen(got), sizeof got - strlen(got), "%s%llu", j ? ", " : "",
                         (unsigned long long)dims[j]);
                snprintf(exp + strlen(exp), sizeof exp - strlen(exp), "%s%llu", j ? ", " : "",
                         (unsigned long long)want[j]);
            }
            st = cu_fail(err, CU_EINPUT, "%s: layer %s: %s has shape [%s], expected [%s]", src->path, layer, name,
                         got, exp);
        }
    }
    float *v = st ? NULL : malloc(numel * sizeof *v);
    if (!st && !v)
        st = cu_fail(err, CU_EDEVICE, "%s: out of host memory", src->path);
    if (!st && H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) < 0)
        st = cu_fail(err, CU_EINPUT, "%s: layer %s: reading %s failed (damaged file?)", src->path, layer, name);
    for (size_t i = 0; i < numel && !st; i++)
        if (!isfinite(v[i]))
            st = cu_fail(err, CU_EINPUT, "%s: layer %s: %s holds a non-finite value", src->path, layer, name);
    if (t >= 0)
        H5Tclose(t);
    if (s >= 0)
        H5Sclose(s);
    if (d >= 0)
        H5Dclose(d);
    if (st)
        free(v);
    else
        *out = v;
    return st;
}

/* Copies one Keras layer's kernel and bias into the net's parameters. */
static enum cu_status load_layer(const struct source *src, const struct cu_keras_layer_map *m, struct cu_unet *net,
                                 struct cu_err *err)
{
    char wname[48], bname[48], gpath[CU_KERAS_NAME_MAX + 32];
    snprintf(wname, sizeof wname, "%s.weight", m->clunet);
    snprintf(bname, sizeof bname, "%s.bias", m->clunet);
    const struct cu_unet_param *pw = cu_unet_param_find(net, wname), *pb = cu_unet_param_find(net, bname);
    if (!pw || !pb)
        return cu_fail(err, CU_EINPUT, "%s: layer %s maps to %s, which this network does not have", src->path,
                       m->keras, m->clunet);
    snprintf(gpath, sizeof gpath, "%s/%s", src->root, src->by_class ? m->saved : m->keras);
    if (H5Lexists(src->file, src->root, H5P_DEFAULT) <= 0 || H5Lexists(src->file, gpath, H5P_DEFAULT) <= 0)
        return cu_fail(err, CU_EINPUT, "%s: layer %s (%s): no weights in the file", src->path, m->keras, m->clunet);
    hid_t g = H5Gopen2(src->file, gpath, H5P_DEFAULT);
    if (g < 0)
        return cu_fail(err, CU_EINPUT, "%s: layer %s: weights are not a group", src->path, m->keras);
    struct layer_sets ls = {0};
    H5Lvisit(g, H5_INDEX_NAME, H5_ITER_INC, visit, &ls);
    /* clunet: weight (O, I, kh, kw) for Conv2D, (I, O, kh, kw) transposed;
     * Keras: (kh, kw, I, O) for Conv2D, (kh, kw, O, I) for Conv2DTranspose. */
    const struct cu_tensor *w = pw->w;
    hsize_t kshape[4] = {(hsize_t)w->h, (hsize_t)w->w, (hsize_t)w->c, (hsize_t)w->n}, bshape[1] = {(hsize_t)pb->w->n};
    float *k = NULL, *b = NULL, *oihw = NULL;
    enum cu_status st = CU_OK;
    if (ls.n_kernel != 1 || ls.n_bias != 1 || ls.n_other)
        st = cu_fail(err, CU_EINPUT, "%s: layer %s (%s): expected one kernel and one bias, found %d 4-D, %d 1-D and %d "
                     "other arrays",
                     src->path, m->keras, m->clunet, ls.n_kernel, ls.n_bias, ls.n_other);
    if (!st)
        st = read_set(src, g, m->keras, ls.kernel, 4, kshape, &k, err);
    if (!st)
        st = read_set(src, g, m->keras, ls.bias, 1, bshape, &b, err);
    size_t numel = (size_t)w->n * (size_t)w->c * (size_t)w->h * (size_t)w->w;
    if (!st && !(oihw = malloc(numel * sizeof *oihw)))
        st = cu_fail(err, CU_EDEVICE, "%s: out of host memory", src->path);
    if (!st) {
        /* Both layouts are the same index map: clunet [a][b][y][x] =
         * Keras [y][x][b][a], with (a, b) = (O, I) or (I, O). */
        int A = w->n, B = w->c, H = w->h, W = w->w;
        for (int a = 0; a < A; a++)
            for (int bb = 0; bb < B; bb++)
                for (int y = 0; y < H; y++)
                    for (int x = 0; x < W; x++)
                        oihw[(((size_t)a * B + bb) * H + y) * W + x] = k[(((size_t)y * W + x) * B + bb) * A + a];
        st = cu_tensor_upload(pw->w, oihw, err);
    }
    if (!st)
        st = cu_tensor_upload(pb->w, b, err);
    free(k);
    free(b);
    free(oihw);
    H5Gclose(g);
    return st;
}

/* Builds the net the architecture describes on ref and fills it. */
static enum cu_status convert(const struct source *src, const struct cu_keras_arch *arch, const char *out_path,
                              struct cu_err *err)
{
    struct cu_backend *be = NULL;
    struct cu_unet *net = NULL;
    CU_TRY(cu_backend_open("ref", &be, err));
    enum cu_status st = cu_unet_new(be, &arch->cfg, 1, &net, err);
    if (!st && cu_unet_n_params(net) != 2 * arch->n)
        st = cu_fail(err, CU_EINPUT, "%s: %d Keras layers carry weights, clunet's network has %d parameter tensors",
                     src->path, arch->n, cu_unet_n_params(net));
    for (int i = 0; i < arch->n && !st; i++)
        st = load_layer(src, &arch->map[i], net, err);
    const char *base = strrchr(src->path, '/');
    struct cu_meta_kv facts[] = {{"imported_from", base ? base + 1 : src->path},
                                 {"keras_version", src->keras_version}};
    if (!st)
        st = cu_model_save(out_path, net, 0, facts, 2, err);
    cu_unet_free(net);
    cu_backend_free(be);
    return st;
}

static enum cu_status import(struct source *src, const char *out_path, int image_size, struct cu_unet_config *cfg,
                             struct cu_err *err)
{
    char *data = NULL;
    size_t len = 0;
    CU_TRY(cu_read_file(src->path, &data, &len, err));
    unsigned char *buf = (unsigned char *)data;
    static const unsigned char h5_magic[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
    enum cu_status st;
    if (len >= 8 && !memcmp(buf, h5_magic, 8))
        st = open_h5(src, buf, len, err);
    else if (len >= 4 && !memcmp(buf, "PK\3\4", 4))
        st = open_keras(src, buf, len, err);
    else
        st = cu_fail(err, CU_EINPUT, "%s: neither an HDF5 (.h5) nor a zip (.keras) Keras model file", src->path);
    struct cu_keras_arch arch;
    if (!st)
        st = cu_keras_arch_parse(src->config, src->config_len, src->path, &arch, err);
    if (!st && src->by_class)
        st = open_keras_weights(src, buf, len, err);
    free(buf);
    if (!st && arch.cfg.image_size == 0 && image_size == 0)
        st = cu_fail(err, CU_EUSAGE, "%s: the model's input shape leaves the image size open: give it with -s",
                     src->path);
    else if (!st && arch.cfg.image_size && image_size && image_size != arch.cfg.image_size)
        st = cu_fail(err, CU_EUSAGE, "%s: the model's input is %dx%d, not -s %d", src->path, arch.cfg.image_size,
                     arch.cfg.image_size, image_size);
    if (!st && !arch.cfg.image_size)
        arch.cfg.image_size = image_size;
    struct cu_err cerr = {0};
    if (!st && cu_unet_config_check(&arch.cfg, &cerr))
        st = cu_fail(err, CU_EINPUT, "%s: %s", src->path, cerr.msg);
    if (!st)
        st = convert(src, &arch, out_path, err);
    if (!st && cfg)
        *cfg = arch.cfg;
    return st;
}

enum cu_status cu_keras_import(const char *in_path, const char *out_path, int image_size, struct cu_unet_config *cfg,
                               struct cu_err *err)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* failures are reported as one line, not HDF5's stack */
    struct source src = {.path = in_path, .file = H5I_INVALID_HID};
    enum cu_status st = import(&src, out_path, image_size, cfg, err);
    if (src.file >= 0)
        H5Fclose(src.file);
    free(src.config);
    return st;
}
