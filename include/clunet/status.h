/* status.h: the status codes every clunet function returns, and the error
 * record that carries one message up to main.c.
 *
 * The numeric values are the process exit codes, one per failure class
 * (cu_exit_codes below is the table `clunet --help` and README.md print).
 * Library code never prints or exits; it fills a struct cu_err with one
 * line and returns the status. The first failure wins: later, less
 * specific messages do not overwrite it. */
#ifndef CLUNET_STATUS_H
#define CLUNET_STATUS_H

enum cu_status {
    CU_OK = 0,
    CU_EUSAGE = 1,  /* bad command line or API misuse (e.g. shape mismatch) */
    CU_EINPUT = 2,  /* bad input data or model file, NaN loss */
    CU_EDEVICE = 3, /* OpenCL or device error; out of device or host memory */
    CU_EIO = 4,     /* cannot write output */
};

/* Exit codes after a signal (128 + its number). */
#define CU_EXIT_SIGINT 130  /* Ctrl-C: train finishes the batch and writes its checkpoint first */
#define CU_EXIT_SIGTERM 143 /* terminated (kill, a batch scheduler's time limit) */

/* The exit codes of the clunet binary, in order, ending with code -1. */
struct cu_exit_code {
    int code;
    const char *meaning;
};
extern const struct cu_exit_code cu_exit_codes[];

struct cu_err {
    enum cu_status status;
    char msg[1024];
    /* Optional multi-line text that explains msg (an OpenCL compiler's build
     * log), printed by cu_cli_report after the message line; "" if none. */
    char detail[8192];
};

#if defined(__GNUC__)
#define CU_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define CU_PRINTF(a, b)
#endif

/* Records the message (printf-style, no trailing newline) unless an earlier
 * failure is already recorded; returns s (or the earlier status). e may be
 * NULL. */
enum cu_status cu_fail(struct cu_err *e, enum cu_status s, const char *fmt, ...) CU_PRINTF(3, 4);

void cu_err_clear(struct cu_err *e);

/* Attaches text (truncated to fit) as e->detail, only when e holds a
 * failure and no detail yet: the detail belongs to the first message. */
void cu_err_detail(struct cu_err *e, const char *text);

/* Returns from the enclosing function with the status of call when it
 * failed (the message is already in err). */
#define CU_TRY(call)                                                                                              \
    do {                                                                                                          \
        enum cu_status cu_try_st_ = (call);                                                                       \
        if (cu_try_st_)                                                                                           \
            return cu_try_st_;                                                                                    \
    } while (0)

#endif
