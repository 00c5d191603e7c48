/* main.c: the clunet command line: global flags, joining the MPI process
 * group when an MPI launcher started us (comm.h), and dispatch to the
 * sub-commands of cli.h. Nothing else lives here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clunet/cli.h"
#include "cli/args.h"
#include "clunet/comm.h"
#include "clunet/version.h"

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
};

static const struct command commands[] = {
    {"devices", cu_cmd_devices, "list OpenCL devices and the ref backend (also --list-devices)"},
    {"train", cu_cmd_train, "train a U-Net on a folder of images and masks; writes a run folder"},
    {"synth", cu_cmd_synth, "write a synthetic nuclei dataset (DSB2018 layout), the default first dataset"},
    {"predict", cu_cmd_predict, "masks, nuclei, overlays and a Kaggle CSV for images of any size"},
    {"eval", cu_cmd_eval, "Dice, IoU and the DSB2018 score of a model (or of saved labels)"},
    {"models", cu_cmd_models, "the models found by name (the shipped one first) and where they come from"},
    {"convert", cu_cmd_convert, "rewrite a model file with F16 (or F32) weights and added facts"},
    {"bench", cu_cmd_bench, "time training steps, inference and each layer on a device"},
    {"import", cu_cmd_import, "a Keras .h5/.keras model of the DSB2018 U-Net as a clunet model"},
    {"export", cu_cmd_export, "a clunet model as ONNX (ONNX Runtime, OpenVINO, TensorRT)"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: clunet [--device SPEC] COMMAND [options]   (clunet COMMAND --help for each)\n\n"
               "U-Net segmentation of cell nuclei on any OpenCL device, with a pure-C reference backend.\n\n"
               "commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\nglobal options:\n"
               "  --list-devices   same as `clunet devices`\n"
               "  --device SPEC    ref, an id (0:1), a name substring, or gpu/cpu/accelerator;\n"
               "                   also CLUNET_DEVICE. Default: first GPU, else first OpenCL\n"
               "                   device, else ref.\n"
               "  --no-kernel-cache  build the OpenCL kernels from source, and neither read nor\n"
               "                   write the binary cache ($XDG_CACHE_HOME/clunet, else\n"
               "                   ~/.cache/clunet); also CLUNET_NO_KERNEL_CACHE=1\n"
               "  -q, --quiet      every command prints only errors (as its own -q)\n"
               "  --version        clunet's version, git description and library versions\n"
               "  -h, --help       this help\n"
               "\nSeveral processes: `mpirun -n N clunet train ...` trains one model with N\n"
               "processes (docs/SCALING.md); this build: %s.\n"
               "Every other command runs on rank 0 alone; the other ranks exit 0 at once.\n\n",
            strcmp(cu_comm_library(), "none") ? cu_comm_library() : "no MPI (meson setup -Dmpi=enabled)");
    cu_cli_exit_codes(f);
}

/* Runs the command line's command; main wraps it in the process group. */
static int dispatch(int argc, char **argv, const struct cu_comm *comm)
{
    enum { O_LIST = CU_ARG_LONG, O_DEVICE, O_NO_CACHE, O_VERSION };
    static const struct cu_opt opts[] = {
        {"list-devices", O_LIST, 0}, {"device", O_DEVICE, 1}, {"no-kernel-cache", O_NO_CACHE, 0},
        {"version", O_VERSION, 0},   {"quiet", 'q', 0},       {"help", 'h', 0},
        {NULL, 0, 0},
    };
    struct cu_err err = {0};
    struct cu_args a;
    cu_args_init(&a, NULL, argc, argv, opts, &err);
    a.stop_at_pos = 1;
    int key, list = 0;
    /* Global flags before the command; the commands read --device through
     * cu_cli_device. */
    while ((key = cu_args_next(&a)) > 0 && key != CU_ARG_POS) {
        switch (key) {
        case O_LIST: list = 1; break;
        case O_DEVICE: cu_cli_set_device(a.val); break;
        case O_NO_CACHE: setenv("CLUNET_NO_KERNEL_CACHE", "1", 1); break;
        case 'q': cu_cli_set_quiet(1); break;
        case 'h':
        case O_VERSION:
            if (cu_comm_rank(comm) == 0)
                key == 'h' ? usage(stdout) : cu_version_print(stdout);
            return 0;
        }
        if (list)
            break;
    }
    if (key < 0)
        return cu_cli_report(&err);
    if (list) /* --list-devices [devices flags]: the devices command */
        return cu_comm_rank(comm) == 0 ? cu_cmd_devices(argc - a.next + 1, argv + a.next - 1) : 0;
    if (key != CU_ARG_POS) {
        usage(stderr);
        return CU_EUSAGE;
    }
    const char *name = argv[a.next];
    /* Only train works as a group; two ranks running any other command
     * would race for the same output files. */
    if (cu_comm_rank(comm) != 0 && strcmp(name, "train"))
        return 0;
    for (size_t k = 0; k < sizeof commands / sizeof commands[0]; k++)
        if (!strcmp(name, commands[k].name))
            return commands[k].run(argc - a.next, argv + a.next);
    fprintf(stderr, "clunet: unknown command %s (see clunet --help)\n", name);
    return CU_EUSAGE;
}

int main(int argc, char **argv)
{
    struct cu_comm *comm = NULL;
    struct cu_err err = {0};
    if (cu_comm_open(&argc, &argv, &comm, &err))
        return cu_cli_report(&err);
    cu_cli_set_comm(comm);
    int rc = dispatch(argc, argv, comm);
    /* A rank that failed alone (not through cu_comm_agree) may leave the
     * others waiting in a collective: end them all. Usage errors and
     * interrupts happen on every rank alike. */
    if (rc && rc != CU_EUSAGE && rc != CU_EXIT_SIGINT && rc != CU_EXIT_SIGTERM && cu_comm_size(comm) > 1 && cu_comm_failed_rank(comm) < 0)
        cu_comm_abort(comm, rc);
    cu_cli_set_comm(NULL);
    cu_comm_close(comm);
    return rc;
}
