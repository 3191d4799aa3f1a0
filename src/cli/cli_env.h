/* cli_env.h - the environment variables the `enhance` command honours, read in this one place
 * and turned into settings (the library reads no environment):
 *   ENHANCE_LOG=error|warn|info|debug        log level (default warn; serve: info)
 *   ENHANCE_THREADS=N                        threads of the default pool (--threads wins)
 *   ENHANCE_POOL_SPIN_US=US                  the pool's poll before sleeping (default 200)
 *   ENHANCE_PRECISION=fp32|bf16|auto         the AI models' precision (--precision wins)
 *   ENHANCE_KERNELS=ref|portable|avx2|avx512|auto   force a kernel path   } benchmarking
 *   ENHANCE_CONV_ALGO=wino|gemm|ref|auto     force a convolution algorithm } and tests
 *   ENH_WINO_BUDGET_KB=N                     Winograd block scratch (default 512) }
 *   ENHANCE_NO_VCACHE=1                      dense-block convs do not share transforms }
 *   ENHANCE_MODELS_DIR, else $XDG_CACHE_HOME/enhance/models, else ~/.cache/enhance/models:
 *                                            the models folder
 * The NN settings become the process default options (nn/nn_options.h), which every command's
 * model loads start from. Not thread-safe: call once at start-up, before any thread starts.
 */
#ifndef ENH_CLI_ENV_H
#define ENH_CLI_ENV_H

#include <stddef.h>

/* 0, or 1 with a message naming the variable and its allowed values in msg. */
int cli_env_apply(char *msg, size_t n);

#endif
