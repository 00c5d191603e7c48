/* mem_check.h: what a training configuration needs in memory, and the
 * process's address-space limit, checked before allocating. Under a limit
 * (ulimit -v; batch schedulers set one, e.g. SGE's h_vmem) an allocation
 * inside an OpenCL driver can abort the process (PoCL asserts) instead of
 * failing, so the limit is compared with the need first and an impossible
 * configuration stops with one line (exit 3). Used by train and bench. */
#ifndef CLUNET_MEM_CHECK_H
#define CLUNET_MEM_CHECK_H

#include "clunet/status.h"
#include "clunet/unet.h"

/* A rough upper bound of one replica's training memory (bytes):
 * parameters with gradient and two moments, plus about 20 activation-sized
 * buffers per level (forward outputs, concat, up-sampling and the
 * gradients of each). *largest: the largest single buffer. */
double cu_train_mem_estimate(const struct cu_unet_config *u, int batch, double *largest);

/* The address space this process may still take: RLIMIT_AS minus what it
 * maps now (/proc/self/statm); a negative value when there is no limit. */
double cu_as_headroom(void);

/* CU_EDEVICE "<what> needs about X GiB of address space, the address-space
 * limit (ulimit -v) leaves Y GiB of its Z GiB; try a smaller --batch or -s"
 * when need bytes (plus a margin for the driver's own) do not fit. */
enum cu_status cu_as_limit_check(double need, const char *what, struct cu_err *err);

#endif
