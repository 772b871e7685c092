/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ens.h - public API of libens: timm-exact EfficientNet (Noisy Student) inference.
 *
 * Plain C11, no global state: every function works on the objects it is given.
 *
 * Objects: an ens_model is the loaded network (folded weights, config, labels), read-only
 * once loaded. An ens_session runs it for one caller: its own activation memory (planned for
 * a batch size and the model's input size), a thread pool (its own, or an ens_pool shared
 * with other sessions) and a precision. Any number of sessions may use one model from
 * different threads at once, without locks, and give the same results as one. One session is
 * used by one thread at a time.
 *
 * The ens_model_forward() convenience runs the model's own default session (made at the
 * first call from the load options' threads / max_batch): call it on one model from one
 * thread at a time.
 *
 * Errors: every fallible function returns an ens_status and, when err is not NULL, fills
 * err->message with one line naming the file / tensor / argument and the problem.
 * Nothing aborts on user input.
 */
#ifndef ENS_H
#define ENS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ENS_ERROR_MAX 512
/* Largest batch of one ens_model_forward() call (and of ens_options.max_batch). */
#define ENS_MAX_BATCH 4096
#define ENS_VARIANT_MAX 16

typedef enum {
  ENS_OK = 0,
  ENS_ERR_ARG = 1,         /* invalid argument from the caller */
  ENS_ERR_IO = 2,          /* cannot open / read / map a file */
  ENS_ERR_FORMAT = 3,      /* malformed file: safetensors header, JSON, JPEG, PNM ... */
  ENS_ERR_MODEL = 4,       /* tensors missing, wrong shape or dtype, unknown variant */
  ENS_ERR_NOMEM = 5,       /* allocation failed */
  ENS_ERR_UNSUPPORTED = 6, /* valid input that ens does not handle */
} ens_status;

typedef struct {
  ens_status code;
  char message[ENS_ERROR_MAX];
} ens_error;

/* Human-readable name of a status code ("format error", ...). */
const char *ens_status_name(ens_status s);

/* ---------------------------------------------------------------- model options */

typedef enum {
  ENS_INTERP_DEFAULT = 0, /* the model's pretrained config (bicubic for every NS variant) */
  ENS_INTERP_BICUBIC,     /* PIL's antialiased bicubic, bit-exact to timm's eval transform */
  ENS_INTERP_BILINEAR,    /* PIL's antialiased bilinear (also exact to PIL), cheaper */
} ens_interp;

typedef enum {
  ENS_PRECISION_F32 = 0, /* default; parity with timm */
  ENS_PRECISION_BF16,    /* AVX512_BF16 path, approximate; see README */
  ENS_PRECISION_MODEL,   /* sessions only: the precision the model was loaded with */
} ens_precision;

typedef struct {
  int threads;                   /* 0 = number of online CPUs */
  int input_height, input_width; /* 0 = the variant's pretrained input size */
  float crop_pct;                /* 0 = the variant's pretrained crop_pct */
  ens_interp interpolation;      /* DEFAULT = the variant's pretrained interpolation */
  int override_mean_std;         /* nonzero: use mean/std below instead of the config's */
  float mean[3], std[3];
  const char *labels_path; /* NULL: config.json label_names, else ImageNet-1k names for 1000
                              classes, else "class_<id>" */
  int max_batch;           /* memory plan is sized for this batch (0 = 1); larger batches grow it */
  ens_precision precision; /* BF16: the 1x1 weights are also packed in bf16 at load, for
                              bf16 sessions; ens_model_forward() then runs in bf16 */
} ens_options;

/* Fill *o with defaults (all "use the model's config"). */
void ens_options_init(ens_options *o);

/* ---------------------------------------------------------------- model */

typedef struct {
  char variant[ENS_VARIANT_MAX]; /* "b0".."b7", "l2": detected from tensor shapes; another
                                    width / depth: "w0.5 d0.5" (config.json multipliers) or
                                    "custom" */
  char name[64];                 /* e.g. "tf_efficientnet_b0.ns_jft_in1k" (for metadata) */
  int num_classes;               /* from the classifier's shape */
  int num_features;              /* width of the pooled pre-logits features */
  int input_height, input_width; /* network input (crop) size in use */
  float crop_pct;
  ens_interp interpolation; /* never DEFAULT here: the resolved one */
  float mean[3], std[3];
  int threads;         /* threads of ens_model_forward()'s default session */
  size_t weight_bytes; /* size of the weight file (0 for random weights) */
  double gflops;       /* multiply-adds x 2 of one image at the current input size */
} ens_model_info;

typedef struct ens_model ens_model;

/* Load a timm .safetensors file, or a hub-layout directory holding model.safetensors and
 * config.json (pretrained_cfg and label_names are read from it when present).
 * opt may be NULL (defaults). */
ens_status ens_model_load(const char *path, const ens_options *opt, ens_model **out,
                          ens_error *err);

/* A model of the named variant ("b0".."b7", "l2") with deterministic He-initialised weights
 * (seeded). For benchmarks and offline demos only: its labels are meaningless. */
ens_status ens_model_new_random(const char *variant, int num_classes, uint64_t seed,
                                const ens_options *opt, ens_model **out, ens_error *err);

void ens_model_free(ens_model *m);

/* The embedded default model (a Fashion-MNIST hub directory) used when no model is given:
 * the first of $ENS_DEFAULT_MODEL (used as given; an error if it does not exist), the source
 * tree's engine/data/models/fashion_mnist and <datadir>/ens/models/fashion_mnist that holds a
 * model.safetensors. Writes the path into buf (size bytes); ENS_ERR_IO naming the places
 * looked at when there is none. */
ens_status ens_default_model_path(char *buf, size_t size, ens_error *err);

const ens_model_info *ens_model_get_info(const ens_model *m);

/* Label of class_id; never NULL for 0 <= class_id < num_classes (NULL otherwise). */
const char *ens_model_label(const ens_model *m, int class_id);

/* Nonzero if this model was made by ens_model_new_random(). */
int ens_model_is_random(const ens_model *m);

/* Forward pass. input: float32 NCHW [batch, 3, input_height, input_width], already
 * preprocessed. logits: [batch, num_classes] or NULL. features: [batch, num_features] (pooled
 * pre-logits) or NULL. */
ens_status ens_model_forward(ens_model *m, const float *input, int batch, float *logits,
                             float *features, ens_error *err);

/* ---------------------------------------------------------------- thread pool */

/* A pool of worker threads that any number of sessions may share. The calling thread of a
 * forward works as one of its threads. Sessions that submit at the same time are serialised
 * job by job (one parallel loop at a time, each on every thread): the pool never runs more
 * threads than it has, and results do not depend on who else uses it. */
typedef struct ens_pool ens_pool;

/* threads <= 0: the number of online CPUs (threads - 1 workers are started). */
ens_status ens_pool_new(int threads, ens_pool **out, ens_error *err);
/* Free only after every session using it. */
void ens_pool_free(ens_pool *pool);
int ens_pool_threads(const ens_pool *pool);

/* ---------------------------------------------------------------- sessions */

typedef struct ens_session ens_session;

typedef struct {
  ens_pool *pool;          /* shared pool (not owned), or NULL: the session starts its own */
  int threads;             /* threads of its own pool (pool == NULL): 0 = online CPUs */
  int max_batch;           /* memory is planned for this batch (0 = 1); larger ones grow it */
  ens_precision precision; /* default ENS_PRECISION_MODEL; BF16 needs a model loaded in BF16 */
} ens_session_options;

void ens_session_options_init(ens_session_options *o);

/* A session on m (which must outlive it). opt may be NULL (defaults). */
ens_status ens_session_new(const ens_model *m, const ens_session_options *opt, ens_session **out,
                           ens_error *err);
void ens_session_free(ens_session *s);
int ens_session_threads(const ens_session *s);

/* timm's features_only maps (EfficientNetFeatures, default out_indices 0..4): the outputs at
 * strides 2, 4, 8, 16 and 32, i.e. the ends of the stages after which the resolution halves
 * and of the last one (b0: blocks.0, .1, .2, .4, .6). */
#define ENS_FEATURE_MAPS 5

typedef struct {
  char name[16];               /* timm's module name, e.g. "blocks.2" */
  int channels, height, width; /* of one image */
  int stride;                  /* input pixels per map pixel (2 .. 32) */
} ens_map_info;

/* Shape of features_only map i (0 <= i < ENS_FEATURE_MAPS), or with i == ENS_FEATURE_MAPS of
 * forward_features' unpooled map (conv_head + BN + SiLU, name "head"). ENS_ERR_ARG when out
 * of range. */
ens_status ens_session_map_info(const ens_session *s, int i, ens_map_info *out, ens_error *err);

/* What one forward writes; every pointer may be NULL (not computed / not copied). */
typedef struct {
  float *logits;                 /* [batch, num_classes] */
  float *features;               /* pooled pre-logits [batch, num_features] */
  float *head_map;               /* forward_features: NCHW [batch, num_features, h/32, w/32] */
  float *maps[ENS_FEATURE_MAPS]; /* features_only: NCHW [batch, channels, height, width] */
} ens_outputs;

/* Forward of batch preprocessed images: input float32 NCHW [batch, 3, input_height,
 * input_width] (the model's input size). */
ens_status ens_session_run(ens_session *s, const float *input, int batch, const ens_outputs *out,
                           ens_error *err);

/* ens_session_run() for logits and pooled features only (either may be NULL). */
ens_status ens_session_forward(ens_session *s, const float *input, int batch, float *logits,
                               float *features, ens_error *err);

/* ---------------------------------------------------------------- results */

typedef struct {
  int id;
  float prob;
  const char *label; /* owned by the model */
} ens_class_score;

/* Numerically stable softmax of n logits into probs (may alias). Non-finite logits give a
 * limit distribution (e.g. uniform for NaN); use ens_softmax_checked() to refuse them. */
void ens_softmax(const float *logits, int n, float *probs);

/* ens_softmax() that refuses non-finite input: if any logit is NaN or +-Inf (NaN / Inf weights,
 * overflowing activations), returns ENS_ERR_MODEL naming the first one and how many there are,
 * and leaves probs untouched; nothing is invented. ENS_ERR_ARG for NULL or n < 1. Top-k of the
 * probabilities it returns is always finite. */
ens_status ens_softmax_checked(const float *logits, int n, float *probs, ens_error *err);

/* The k highest of n scores, highest first (ties: lower id first). Returns how many were
 * written (min(k, n)). Labels are taken from m when m is not NULL. */
int ens_topk(const ens_model *m, const float *probs, int n, int k, ens_class_score *out);

/* ---------------------------------------------------------------- images */

typedef enum {
  ENS_PIXEL_RGB = 0,
  ENS_PIXEL_BGR,
  ENS_PIXEL_RGBA,
  ENS_PIXEL_BGRA,
  ENS_PIXEL_RGBX,
  ENS_PIXEL_BGRX,
  ENS_PIXEL_ARGB,
  ENS_PIXEL_ABGR,
  ENS_PIXEL_XRGB,
  ENS_PIXEL_XBGR,
  ENS_PIXEL_I420, /* planes Y, U, V */
  ENS_PIXEL_NV12, /* planes Y, UV */
} ens_pixel_format;

typedef enum {
  ENS_YUV_BT601 = 0, /* limited range */
  ENS_YUV_BT709,     /* limited range */
  ENS_YUV_BT601_FULL,
  ENS_YUV_BT709_FULL,
} ens_yuv_matrix;

/* A borrowed view of one frame. Strides in bytes, may be padded. */
typedef struct {
  ens_pixel_format format;
  int width, height;
  const uint8_t *planes[3];
  int strides[3];
  ens_yuv_matrix yuv_matrix; /* for I420 / NV12 */
} ens_image;

typedef struct {
  int x, y, width, height;
} ens_rect;

/* timm's eval transform: resize shorter side to floor(size / crop_pct) (longer side
 * truncated proportionally), center crop size, /255, normalize. For a non-square size
 * (H != W) timm uses ResizeKeepRatio to floor(H / crop_pct) x floor(W / crop_pct) (scale by the
 * smaller ratio, sides rounded half-to-even) and always bilinear; ens does the same. */
typedef struct {
  int out_height, out_width; /* crop = network input size */
  float crop_pct;
  ens_interp interpolation;
  float mean[3], std[3];
} ens_preprocess_params;

/* The model's resolved preprocessing. */
void ens_model_preprocess_params(const ens_model *m, ens_preprocess_params *p);

/* Preprocess img (restricted to roi when not NULL; roi is clipped to the image) into
 * out: float32 CHW [3, out_height, out_width]. Packed RGB input with bicubic is bit-exact to
 * timm (PIL). YUV input is converted to RGB first (rounded to uint8, as a decoder would). */
ens_status ens_preprocess(const ens_preprocess_params *p, const ens_image *img, const ens_rect *roi,
                          float *out, ens_error *err);

/* The rectangle of a frame_width x frame_height frame that ens_preprocess reads for roi (NULL =
 * the whole frame): a caller keeping a frame for later (ensclassify's async mode) needs only
 * these pixels. */
ens_status ens_preprocess_source_rect(const ens_preprocess_params *p, int frame_width,
                                      int frame_height, const ens_rect *roi, ens_rect *out,
                                      ens_error *err);

/* ens_preprocess of a frame_width x frame_height frame of which window holds only the rectangle
 * at (x, y), window->width x window->height (x and y even for I420 / NV12); roi in frame
 * coordinates. The window must contain ens_preprocess_source_rect(roi) (else ENS_ERR_ARG); the
 * output is then identical to ens_preprocess on the whole frame. */
ens_status ens_preprocess_window(const ens_preprocess_params *p, const ens_image *window, int x,
                                 int y, int frame_width, int frame_height, const ens_rect *roi,
                                 float *out, ens_error *err);

/* A decoded 8-bit RGB picture (tightly packed, stride = 3 * width). */
typedef struct {
  int width, height;
  uint8_t *rgb;
} ens_rgb_image;

/* Decode a JPEG (libjpeg-turbo, default settings: identical to PIL's decode), a PNG (libpng:
 * every colour type and bit depth, interlaced or not; identical to PIL's convert('RGB') but
 * for 16-bit gray, see io/image_png.c) or a binary / ASCII PNM (P2, P3, P5, P6; maxval <= 255
 * or rescaled). */
ens_status ens_image_load(const char *path, ens_rgb_image *out, ens_error *err);
ens_status ens_image_decode(const uint8_t *data, size_t len, const char *name_for_errors,
                            ens_rgb_image *out, ens_error *err);
void ens_rgb_image_free(ens_rgb_image *img);

/* Borrowed ens_image view of a decoded picture. */
ens_image ens_rgb_image_view(const ens_rgb_image *img);

#ifdef __cplusplus
}
#endif

#endif /* ENS_H */
