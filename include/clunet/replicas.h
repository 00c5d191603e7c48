/* replicas.h: synchronous data parallelism inside one process: K replicas
 * of the U-Net, each on its own backend (`clunet train --devices 0:0,0:1`),
 * and, through comm.h, across the processes of an MPI job.
 *
 * One training step takes this process's share of a global batch of
 * n_global images as host arrays and
 *   1. splits it into K contiguous slices, as equal as possible (cu_split;
 *      a replica may get none), one host thread per replica when K > 1;
 *   2. each replica uploads its slice and runs forward, loss and backward:
 *      its gradient is the mean over its own n_r images (the losses of
 *      ops.h normalise by the tensor's batch);
 *   3. the gradients are downloaded into host buffers (allocated once; one
 *      transfer of the net's flat gradient buffer, cu_unet_flat) and
 *      summed with weights n_r / n_global, so the sum is the gradient of the
 *      mean over the global batch; then summed across processes
 *      (cu_comm_sum_f32);
 *   4. the sum is uploaded to every replica and each applies the same Adam
 *      update, so all replicas keep the same weights.
 * The reported loss and Dice are the image-weighted means over the global
 * batch. Dice (the metric, and the loss of --loss dice / bce+dice) is
 * computed over each replica's slice, not over the whole batch, as PyTorch's
 * DistributedDataParallel does; with bce the step is the same mathematics as
 * one device with the whole batch, up to the order of float sums.
 *
 * The network has no batch normalisation, so no statistics cross replicas;
 * a future normalisation layer would have to synchronise its batch
 * statistics here.
 *
 * With K = 1 and a single process the step is cu_unet_train_step itself:
 * no gradient leaves the device, nothing extra is allocated.
 *
 * Lists and slices are in device_list.c.
 * Leaves out: which images a process takes (train.c), MPI (comm.h). */
#ifndef CLUNET_REPLICAS_H
#define CLUNET_REPLICAS_H

#include <stdint.h>

#include "clunet/comm.h"
#include "clunet/ops.h"
#include "clunet/unet.h"

#define CU_REPLICAS_MAX 64

struct cu_replicas;

/* Expands a --devices list ("0:0,0:1", "cpu,cpu", "ref,cpu", "all", "gpu")
 * into backend specs as cu_backend_open takes them: "all" is every OpenCL
 * device, "gpu", "cpu" and "accelerator" every device of that type (an id
 * each); any other entry is kept as it is. An entry may repeat: each gets
 * its own backend. *specs is malloc'd; free with cu_device_list_free.
 * CU_EUSAGE for an empty entry or more than CU_REPLICAS_MAX, CU_EDEVICE
 * when a type or "all" matches no device. */
enum cu_status cu_device_list_parse(const char *list, char ***specs, int *k, struct cu_err *err);
void cu_device_list_free(char **specs, int k);

/* Slice i of n items cut into k contiguous parts whose sizes differ by at
 * most one: [*off, *off + *len). */
void cu_split(int n, int k, int i, int *off, int *len);

/* Opens a backend per spec, in order, on the calling thread (kernel builds
 * and the binary cache are not shared between threads). comm: the process
 * group (NULL = a single process); borrowed. */
enum cu_status cu_replicas_open(char *const *specs, int k, struct cu_comm *comm, struct cu_replicas **out,
                                struct cu_err *err);
/* Builds a network on every backend for steps of up to max_images images
 * (this process's share): each replica holds ceil(max_images / K). */
enum cu_status cu_replicas_build(struct cu_replicas *r, const struct cu_unet_config *cfg, int max_images,
                                 struct cu_err *err);
void cu_replicas_free(struct cu_replicas *r);

int cu_replicas_count(const struct cu_replicas *r);
struct cu_backend *cu_replicas_backend(const struct cu_replicas *r, int i);
/* Replica i's network (after build); replica 0's is the one to save. */
struct cu_unet *cu_replicas_net(const struct cu_replicas *r, int i);
/* Most images one replica takes in a step. */
int cu_replicas_cap(const struct cu_replicas *r);

/* cu_unet_init_he on every replica (host-made values: all identical). */
enum cu_status cu_replicas_init_he(struct cu_replicas *r, uint64_t seed, struct cu_err *err);
/* Copies the weights and Adam moments of rank 0's replica 0 to every other
 * replica of every process (after a checkpoint was loaded into it, and at
 * epoch ends, so that replicas on different kinds of device cannot drift
 * apart by rounding). Free when K = 1 in a single process. */
enum cu_status cu_replicas_share(struct cu_replicas *r, struct cu_err *err);

/* One data-parallel step on this process's n images (x: n x C x S x S,
 * t: n x 1 x S x S, n >= 0) of a global batch of n_global >= 1 images.
 * out = [loss, dice] of the global batch (image-weighted means, the same on
 * every process). Every process must call it, also with n = 0. */
enum cu_status cu_replicas_train_step(struct cu_replicas *r, const float *x, const float *t, int n, int n_global,
                                      enum cu_loss kind, const struct cu_adam *hp, long step, double out[2],
                                      struct cu_err *err);
/* Forward and loss of n images split across the replicas (validation).
 * Adds sum of loss * n_r and dice * n_r over this process's replicas to
 * sums[0], sums[1]; no collective. */
enum cu_status cu_replicas_eval(struct cu_replicas *r, const float *x, const float *t, int n, enum cu_loss kind,
                                double sums[2], struct cu_err *err);

#endif
