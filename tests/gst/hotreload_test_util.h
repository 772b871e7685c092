/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hotreload_test_util.h - what the two hot-reload tests (test_classify_hotreload,
 * test_classify_hotreload_shared) share: the three hub-layout models A / B / C they make and
 * load as references, and a real threaded pipeline of n ensclassify elements whose pads are
 * probed to count frames in / out and the switches of the model their results name. */
#ifndef HOTRELOAD_TEST_UTIL_H
#define HOTRELOAD_TEST_UTIL_H

#include "gst_test_util.h"

#define HR_WAIT_S 60 /* for a load + a few frames, under ASan on a busy machine */
#define HR_MAX_STREAMS 4

/* A (10 classes, 64 px), B (1000 classes, 80 px), C (10 classes, 72 px). */
typedef struct {
  gchar *tag;
  gint num_classes, size;
  gchar *path; /* hub directory */
  gchar *name; /* tf_efficientnet_b0.<tag> */
} TestModel;

enum { MA, MB, MC, N_MODELS };
extern TestModel hr_models[N_MODELS];

/* Prints what failed and exits: for setup before any test runs. */
void hr_die(const gchar *what);

/* Makes hr_models with tags <tag_prefix>_a / _b / _c, each a hub directory
 * <gen dir>/<dir_prefix>-<tag> (model.safetensors linking generated weights + config.json
 * naming the tag and input size), and a corrupt safetensors file
 * <gen dir>/<dir_prefix>-corrupt.safetensors, whose path it returns. Skips (77) without
 * ../shared. */
gchar *hr_make_models(const gchar *tag_prefix, const gchar *dir_prefix);

/* hr_models[mi] loaded with libens (TEST_THREADS), checked to be the model it says it is. */
ens_model *hr_load_reference(int mi);

/* Index of the model named name; fails the test if it is none of ours. */
int hr_model_named(const gchar *name);

/* What an element's bus said: its warnings and ens-model-swapped messages. */
typedef struct {
  guint swapped;                    /* ens-model-swapped messages */
  gchar *swapped_new, *swapped_old; /* "new" / "old" of the last one */
  gint swapped_classes;             /* its "num-classes" (read when check_swapped_model) */
  guint warnings;
  gchar *warning; /* text of the last warning */
  /* each swap's "new" path and "num-classes" must be those of the model "new-name" names */
  gboolean check_swapped_model;
} HrSwapLog;

/* Records msg in log if it is a warning or an ens-model-swapped message (checking its fields)
 * and returns TRUE; fails the test on an error message (naming who, when not NULL); returns
 * FALSE for any other message. */
gboolean hr_swap_log_message(HrSwapLog *log, GstMessage *msg, const gchar *who);

/* Frees log's strings and zeroes it. */
void hr_swap_log_clear(HrSwapLog *log);

/* A pipeline whose ensclassify elements are named c0 .. c<n-1>, with probes on their pads. */
typedef struct HrPipeline HrPipeline;
typedef struct {
  HrPipeline *pl;
  int stream;
} HrProbeArg;
struct HrPipeline {
  GstElement *pipe;
  GstBus *bus;
  int n;
  GstElement *c[HR_MAX_STREAMS];
  HrProbeArg args[HR_MAX_STREAMS];
  gboolean check_entries; /* results must have 5 entries of classes their model has */
  GMutex lock;            /* guards the counts below, written by the streaming threads */
  GCond cond;
  guint64 in[HR_MAX_STREAMS], out[HR_MAX_STREAMS];
  int last[HR_MAX_STREAMS]; /* model (A or B) of the last result out of element i, -1 before */
  guint switches[HR_MAX_STREAMS];
  guint bad;                     /* results of another model (or bad entries, check_entries) */
  guint swapped[HR_MAX_STREAMS]; /* ens-model-swapped messages of element i */
};

/* Parses desc (n elements c0..), probes them and sets it PLAYING. Free with hr_pipeline_free. */
HrPipeline *hr_pipeline_start(const gchar *desc, int n, gboolean check_entries);

/* Sets model target on element s % n, then waits (HR_WAIT_S) until every element posted swap
 * s + 1 and let a result of target out; fails on an error or warning on the bus. */
void hr_pipeline_swap(HrPipeline *pl, guint s, int target);

/* Sends EOS and waits for it: the counts are final afterwards. */
void hr_pipeline_eos(HrPipeline *pl);

/* Sets the pipeline to NULL (asserting it succeeds). */
void hr_pipeline_stop(HrPipeline *pl);

void hr_pipeline_free(HrPipeline *pl);

#endif
