/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* train_cmd_noisy_student.c - `ens-train noisy-student`: train a teacher on labeled images,
 * pseudo-label unlabeled ones with it (clean images, eval mode), train a noised student of
 * equal or larger size on both, and iterate with the student as the next teacher.
 *
 * Every phase writes its own hub directory under --out (teacher/, baseline/, student-r1/, ...)
 * and the pseudo-labels of round R to pseudo-rR.safetensors; with --resume finished phases are
 * loaded instead of retrained and an interrupted one continues from its checkpoint. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli_args.h"
#include "dataset_harvest.h"
#include "error.h"
#include "pseudo_label.h"
#include "safetensors.h"
#include "safetensors_write.h"
#include "train_cli.h"
#include "train_cmds.h"

typedef struct {
  ens_train_cli c;
  ens_model_args teacher, student;
  const char *out, *unlabeled, *unlabeled_labels;
  int unlabeled_limit;
  int rounds, teacher_epochs, student_epochs, baseline_epochs, resume;
  ens_pseudo_config pl;
  int balance; /* 1: per_class = unlabeled / K when not given */
  const char *student_ra;
  float student_drop, student_drop_path;
} ns_args;

static void usage(FILE *f)
{
  fprintf(
      f, "usage: ens-train noisy-student --data DATA --out DIR [options]\n\n"
         "Noisy Student: teacher -> pseudo-labels -> noised, equal-or-larger student, iterated.\n\n"
         "  --teacher MODEL        use this trained teacher (else one is trained on --data)\n"
         "  --arch NAME | --width W --depth D   the teacher's shape when it is trained\n"
         "  --student-arch NAME | --student-width W --student-depth D\n"
         "                         the student's shape (default: the teacher's; never smaller)\n"
         "  --unlabeled DATA       unlabeled images (IDX images file, or a folder ensharvest\n"
         "                         filled; --unlabeled-labels FILE only measures pseudo-label\n"
         "                         accuracy). With --data fashion-mnist\n"
         "                         --subset labeled it defaults to the other 54,000 images\n"
         "  --unlabeled-limit N    only the first N unlabeled images (quick runs)\n"
         "  --rounds N (1)         iterations: the student becomes the next teacher\n"
         "  --teacher-epochs N (--epochs)  --student-epochs N (4)\n"
         "  --hard                 one-hot pseudo-labels (default: the teacher's softmax)\n"
         "  --threshold T (0.3)    keep images whose top probability is >= T\n"
         "  --per-class N          balance to N images per predicted class (default: unlabeled\n"
         "                         count / classes); --no-balance keeps every image once\n"
         "  --student-randaugment POLICY (rand-m9-n2-mstd0.5)  --student-drop P (0.3)\n"
         "  --student-drop-path P (0.2)   the student's noise\n"
         "  --baseline-epochs N (0) also train the noised student on the labeled images only\n"
         "  --resume               reuse finished phases, continue an interrupted one\n");
  ens_train_cli_usage_common(f);
}

static int parse_args(int argc, char **argv, ns_args *a)
{
  memset(a, 0, sizeof *a);
  ens_train_cli_defaults(&a->c);
  a->rounds = 1;
  a->student_epochs = 4;
  a->pl.threshold = 0.3f;
  a->balance = 1;
  a->student_ra = "rand-m9-n2-mstd0.5";
  a->student_drop = 0.3f;
  a->student_drop_path = 0.2f;
  enum {
    O_OUT = 1000,
    O_TEACHER,
    O_ARCH,
    O_WIDTH,
    O_DEPTH,
    O_S_ARCH,
    O_S_WIDTH,
    O_S_DEPTH,
    O_UNLABELED,
    O_UNLABELED_LABELS,
    O_ROUNDS,
    O_T_EPOCHS,
    O_S_EPOCHS,
    O_HARD,
    O_THRESHOLD,
    O_PER_CLASS,
    O_NO_BALANCE,
    O_S_RA,
    O_S_DROP,
    O_S_DROP_PATH,
    O_B_EPOCHS,
    O_RESUME,
    O_HELP,
    O_U_LIMIT
  };
  struct option extra[] = {{"out", required_argument, 0, O_OUT},
                           {"teacher", required_argument, 0, O_TEACHER},
                           {"arch", required_argument, 0, O_ARCH},
                           {"width", required_argument, 0, O_WIDTH},
                           {"depth", required_argument, 0, O_DEPTH},
                           {"student-arch", required_argument, 0, O_S_ARCH},
                           {"student-width", required_argument, 0, O_S_WIDTH},
                           {"student-depth", required_argument, 0, O_S_DEPTH},
                           {"unlabeled", required_argument, 0, O_UNLABELED},
                           {"unlabeled-labels", required_argument, 0, O_UNLABELED_LABELS},
                           {"rounds", required_argument, 0, O_ROUNDS},
                           {"teacher-epochs", required_argument, 0, O_T_EPOCHS},
                           {"student-epochs", required_argument, 0, O_S_EPOCHS},
                           {"hard", no_argument, 0, O_HARD},
                           {"threshold", required_argument, 0, O_THRESHOLD},
                           {"per-class", required_argument, 0, O_PER_CLASS},
                           {"no-balance", no_argument, 0, O_NO_BALANCE},
                           {"student-randaugment", required_argument, 0, O_S_RA},
                           {"student-drop", required_argument, 0, O_S_DROP},
                           {"student-drop-path", required_argument, 0, O_S_DROP_PATH},
                           {"baseline-epochs", required_argument, 0, O_B_EPOCHS},
                           {"resume", no_argument, 0, O_RESUME},
                           {"unlabeled-limit", required_argument, 0, O_U_LIMIT},
                           {"help", no_argument, 0, O_HELP},
                           {0, 0, 0, 0}};
  struct option *opts = ens_train_cli_options(extra);
  if (!opts)
    return 1;
  int o, rc = 0;
  optind = 1;
  while (!rc && (o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    char *end = NULL;
    double v = optarg ? strtod(optarg, &end) : 0.0;
    int num_ok = optarg && *optarg && end && !*end;
    int *ip = NULL, lo = 1, hi = 100000;
    double *dp = NULL;
    float *fp = NULL;
    switch (o) {
      case O_OUT:
        a->out = optarg;
        break;
      case O_TEACHER:
        a->teacher.init = optarg;
        a->teacher.keep_head = 1;
        break;
      case O_ARCH:
        a->teacher.arch = optarg;
        break;
      case O_WIDTH:
        dp = &a->teacher.width;
        break;
      case O_DEPTH:
        dp = &a->teacher.depth;
        break;
      case O_S_ARCH:
        a->student.arch = optarg;
        break;
      case O_S_WIDTH:
        dp = &a->student.width;
        break;
      case O_S_DEPTH:
        dp = &a->student.depth;
        break;
      case O_UNLABELED:
        a->unlabeled = optarg;
        break;
      case O_UNLABELED_LABELS:
        a->unlabeled_labels = optarg;
        break;
      case O_ROUNDS:
        ip = &a->rounds, hi = 20;
        break;
      case O_T_EPOCHS:
        ip = &a->teacher_epochs;
        break;
      case O_S_EPOCHS:
        ip = &a->student_epochs;
        break;
      case O_B_EPOCHS:
        ip = &a->baseline_epochs, lo = 0;
        break;
      case O_PER_CLASS:
        ip = &a->pl.per_class;
        hi = 100000000;
        break;
      case O_HARD:
        a->pl.hard = 1;
        break;
      case O_NO_BALANCE:
        a->balance = 0;
        break;
      case O_THRESHOLD:
        fp = &a->pl.threshold;
        break;
      case O_S_RA:
        a->student_ra = strcmp(optarg, "none") ? optarg : NULL;
        break;
      case O_S_DROP:
        fp = &a->student_drop;
        break;
      case O_S_DROP_PATH:
        fp = &a->student_drop_path;
        break;
      case O_RESUME:
        a->resume = 1;
        break;
      case O_U_LIMIT:
        ip = &a->unlabeled_limit;
        hi = 1 << 30;
        break;
      case O_HELP:
        usage(stdout);
        free(opts);
        return -1;
      default:
        if (!ens_train_cli_option(&a->c, o, optarg, "noisy-student"))
          rc = 2;
    }
    if (ip && !ens_cli_parse_int(optarg, lo, hi, ip))
      rc = 2;
    if ((dp || fp) && (!num_ok || !(v >= 0.0) || v > 8.0))
      rc = 2;
    if (dp && !rc)
      *dp = v;
    if (fp && !rc)
      *fp = (float)v;
    if (rc == 2 && (ip || dp || fp))
      fprintf(stderr, "ens-train noisy-student: bad value '%s'\n", optarg);
  }
  free(opts);
  if (!rc && optind < argc) {
    fprintf(stderr, "ens-train noisy-student: unexpected argument '%s'\n", argv[optind]);
    rc = 2;
  }
  if (!rc && !a->out) {
    fprintf(stderr, "ens-train noisy-student: --out DIR is required\n");
    rc = 2;
  }
  if (!rc && (a->pl.threshold > 1.0f || a->student_drop >= 1.0f || a->student_drop_path >= 1.0f)) {
    fprintf(stderr, "ens-train noisy-student: --threshold, --student-drop and "
                    "--student-drop-path must be below 1\n");
    rc = 2;
  }
  if (rc)
    usage(stderr);
  if (!a->teacher_epochs)
    a->teacher_epochs = a->c.recipe.epochs;
  if (!rc && a->teacher.init && !a->student.arch && !(a->student.width > 0)) {
    fprintf(stderr, "ens-train noisy-student: with --teacher, name the student's shape "
                    "(--student-arch NAME or --student-width W --student-depth D)\n");
    rc = 2;
  }
  if (!a->student.arch && !(a->student.width > 0) && !(a->student.depth > 0)) {
    a->student.arch = a->teacher.arch;
    a->student.width = a->teacher.width;
    a->student.depth = a->teacher.depth;
  }
  return rc;
}

static int file_exists(const char *dir, const char *name)
{
  char p[4096];
  struct stat sb;
  snprintf(p, sizeof p, "%s/%s", dir, name);
  return stat(p, &sb) == 0;
}

static size_t count_params(ens_train_graph *g)
{
  int np;
  ens_param *p = ens_tg_params(g, &np);
  size_t n = 0;
  for (int i = 0; i < np; i++)
    n += p[i].is_buffer ? 0 : p[i].numel;
  return n;
}

static double now_s(void)
{
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* One finished phase for the summary. */
typedef struct {
  char name[32];
  double top1, seconds;
} phase_result;

/* Trains (or, with --resume and a finished directory, loads) one phase's model into dir.
 * Returns the exit code; *g receives the trained graph. */
static int run_phase(ns_args *a, const ens_model_args *shape, const ens_train_recipe *r,
                     const ens_data *d, const ens_dataset *train, const char *dir,
                     const char *phase, FILE *log, ens_train_graph **g, phase_result *pr)
{
  ens_error err = {0};
  double w = 0, dd = 0, t0 = now_s();
  snprintf(pr->name, sizeof pr->name, "%s", phase);
  if (a->resume && file_exists(dir, "config.json") && file_exists(dir, "model.safetensors")) {
    if (ens_model_load_trained(dir, a->c.batch, d->input_size, a->c.threads, g, &err) != ENS_OK) {
      fprintf(stderr, "ens-train noisy-student: %s\n", err.message);
      return 1;
    }
    fprintf(stderr, "ens-train noisy-student: %s: reusing the finished model in %s\n", phase, dir);
    pr->seconds = 0;
    if (ens_train_evaluate(*g, &r->eval_b, &d->val, ens_tg_pool(*g), &pr->top1, NULL, NULL, NULL,
                           &err) != ENS_OK) {
      fprintf(stderr, "ens-train noisy-student: %s\n", err.message);
      return 1;
    }
    return 0;
  }
  if (!a->resume && file_exists(dir, "checkpoint.safetensors")) {
    fprintf(stderr,
            "ens-train noisy-student: %s holds an unfinished run: add --resume to continue it, "
            "or choose another --out\n",
            dir);
    return 1;
  }
  if (ens_model_args_build(shape, train->num_classes, a->c.batch, d->input_size, a->c.threads,
                           r->seed, g, &w, &dd, &err) != ENS_OK) {
    fprintf(stderr, "ens-train noisy-student: %s: %s\n", phase, err.message);
    return 1;
  }
  ens_train_result res;
  int rc =
      ens_train_cli_fit_export(&a->c, *g, r, d, train, dir, phase, a->resume, log, w, dd, &res);
  pr->top1 = res.top1;
  pr->seconds = now_s() - t0;
  return rc;
}

/* The teacher's softmax on the unlabeled images (cached in path for --resume). */
static ens_status teacher_probs(ens_train_graph *teacher, const ens_train_recipe *r,
                                const ens_dataset *u, const char *path, int resume, float **out,
                                ens_error *err)
{
  int K = ens_tg_arch(teacher)->num_classes;
  size_t n = (size_t)u->n * K;
  float *p = malloc((n ? n : 1) * sizeof *p);
  if (!p)
    return ens_fail(err, ENS_ERR_NOMEM, "out of memory for %d pseudo-labels", u->n);
  struct stat sb;
  if (resume && stat(path, &sb) == 0) {
    ens_safetensors st;
    if (ens_st_open(path, &st, err) == ENS_OK) {
      const ens_st_tensor *t = ens_st_find(&st, "probs");
      ens_status s =
          t && (size_t)t->numel == n
              ? ens_st_read_f32(&st, t, p, err)
              : ens_fail(err, ENS_ERR_FORMAT, "'%s' does not hold %d x %d probs", path, u->n, K);
      ens_st_close(&st);
      if (s == ENS_OK) {
        *out = p;
        return ENS_OK;
      }
    }
    free(p);
    return err->code;
  }
  ens_status s =
      ens_train_evaluate(teacher, &r->eval_b, u, ens_tg_pool(teacher), NULL, NULL, NULL, p, err);
  if (s == ENS_OK) {
    ens_st_entry e = {.name = "probs", .dtype = ENS_DT_F32, .ndim = 2, .data = p};
    e.shape[0] = u->n;
    e.shape[1] = K;
    s = ens_st_write(path, &e, 1, NULL, NULL, 0, err);
  }
  if (s != ENS_OK) {
    free(p);
    return s;
  }
  *out = p;
  return ENS_OK;
}

static ens_status load_unlabeled(const ns_args *a, const ens_data *d, ens_dataset *u,
                                 ens_error *err)
{
  if (a->unlabeled && ens_harvest_dir_detect(a->unlabeled)) {
    /* samples from ensharvest: relabeled by our teacher, so the harvesting model's own
     * distribution (perhaps of other classes) is not kept */
    ens_status s = ens_data_load_harvest(a->unlabeled, d, a->unlabeled_limit, u, err);
    if (s == ENS_OK) {
      free(u->soft);
      free(u->soft_rows);
      u->soft = NULL;
      u->soft_rows = NULL;
      u->num_classes = d->train.num_classes;
    }
    return s;
  }
  ens_data_args ua = a->c.data;
  ua.no_val = 1;
  ua.limit = a->unlabeled_limit;
  ua.val_data = NULL;
  if (a->unlabeled) {
    ua.data = a->unlabeled;
    ua.labels = a->unlabeled_labels;
    ua.subset = NULL;
  } else if (ua.subset && !strcmp(ua.subset, "labeled")) {
    ua.subset = "unlabeled";
  } else {
    return ens_fail(err, ENS_ERR_ARG,
                    "no unlabeled images: give --unlabeled DATA (or --data fashion-mnist "
                    "--subset labeled, whose other 54,000 images are then the unlabeled set)");
  }
  ens_data ud;
  ens_status s = ens_data_load(&ua, &ud, err);
  if (s != ENS_OK)
    return s;
  if (ud.train.width != d->train.width || ud.train.height != d->train.height ||
      ud.train.channels != d->train.channels) {
    ens_data_free(&ud);
    return ens_fail(err, ENS_ERR_ARG, "unlabeled images are %dx%dx%d, labeled ones %dx%dx%d",
                    ud.train.width, ud.train.height, ud.train.channels, d->train.width,
                    d->train.height, d->train.channels);
  }
  *u = ud.train;
  u->num_classes = d->train.num_classes;
  memset(&ud.train, 0, sizeof ud.train);
  ens_data_free(&ud);
  return ENS_OK;
}

int ens_train_cmd_noisy_student(int argc, char **argv)
{
  ns_args a;
  int rc = parse_args(argc, argv, &a);
  if (rc)
    return rc < 0 ? 0 : rc;
  if (!ens_train_cli_prepare_dir(a.out))
    return 1;
  ens_train_cli_catch_signals();
  ens_error err = {0};
  ens_data d;
  ens_dataset u = {0}, pl = {0}, train = {0};
  ens_train_graph *teacher = NULL, *student = NULL;
  ens_train_augment *aug_t = NULL, *aug_s = NULL;
  float *probs = NULL;
  FILE *log = NULL;
  phase_result pr[64];
  int npr = 0;
  rc = 1;
  if (ens_data_load(&a.c.data, &d, &err) != ENS_OK) {
    fprintf(stderr, "ens-train noisy-student: %s\n", err.message);
    return 1;
  }
  if (!d.has_val) {
    fprintf(stderr, "ens-train noisy-student: a validation / test set is needed to report "
                    "teacher and student accuracy (--val-data or --val-split)\n");
    goto out;
  }
  if (load_unlabeled(&a, &d, &u, &err) != ENS_OK)
    goto fail;
  char path[4096], name[64];
  snprintf(path, sizeof path, "%s/log.jsonl", a.out);
  if (!(log = ens_train_cli_open_log(&a.c, path, a.resume)))
    goto out;

  /* the teacher: plain recipe, as `fit` */
  ens_train_recipe rt, rs;
  if (ens_train_cli_recipe(&a.c, &d, &rt, &aug_t, &err) != ENS_OK)
    goto fail;
  rt.epochs = a.teacher_epochs;
  /* the student: the same recipe with noise */
  ens_train_cli cs = a.c;
  cs.randaugment = a.student_ra;
  if (ens_train_cli_recipe(&cs, &d, &rs, &aug_s, &err) != ENS_OK)
    goto fail;
  rs.drop_rate = a.student_drop;
  rs.drop_path_rate = a.student_drop_path;

  if (a.teacher.init) {
    if (ens_model_load_trained(a.teacher.init, a.c.batch, d.input_size, a.c.threads, &teacher,
                               &err) != ENS_OK)
      goto fail;
    snprintf(pr[npr].name, sizeof pr[npr].name, "teacher (given)");
    pr[npr].seconds = 0;
    if (ens_train_evaluate(teacher, &rt.eval_b, &d.val, ens_tg_pool(teacher), &pr[npr].top1, NULL,
                           NULL, NULL, &err) != ENS_OK)
      goto fail;
    npr++;
  } else {
    snprintf(path, sizeof path, "%s/teacher", a.out);
    if ((rc = run_phase(&a, &a.teacher, &rt, &d, &d.train, path, "teacher", log, &teacher,
                        &pr[npr++])) != 0)
      goto out;
    rc = 1;
  }
  size_t teacher_params = count_params(teacher);
  { /* refuse a smaller student before any training */
    ens_train_graph *probe = NULL;
    double w, dd;
    if (ens_model_args_build(&a.student, d.train.num_classes, 1, d.input_size, 1, 0, &probe, &w,
                             &dd, &err) != ENS_OK)
      goto fail;
    size_t sp = count_params(probe);
    ens_tg_free(probe);
    if (sp < teacher_params) {
      fprintf(stderr,
              "ens-train noisy-student: the student (%zu parameters) is smaller than the teacher "
              "(%zu): Noisy Student needs an equal-or-larger student\n",
              sp, teacher_params);
      goto out;
    }
  }

  for (int round = 1; round <= a.rounds; round++) {
    /* pseudo-labels from the current teacher, on clean images */
    double t0 = now_s();
    snprintf(path, sizeof path, "%s/pseudo-r%d.safetensors", a.out, round);
    free(probs);
    probs = NULL;
    if (teacher_probs(teacher, &rt, &u, path, a.resume, &probs, &err) != ENS_OK)
      goto fail;
    ens_pseudo_config pc = a.pl;
    if (a.balance && pc.per_class == 0)
      pc.per_class = u.n / d.train.num_classes;
    if (!a.balance)
      pc.per_class = 0;
    ens_pseudo_stats ps;
    ens_dataset_free(&pl);
    ens_dataset_free(&train);
    if (ens_pseudo_label(&u, probs, &pc, &pl, &ps, &err) != ENS_OK ||
        ens_dataset_concat(&d.train, &pl, &train, &err) != ENS_OK)
      goto fail;
    double secs = now_s() - t0;
    fprintf(log,
            "{\"phase\":\"pseudo-labels\",\"round\":%d,\"unlabeled\":%d,\"above_threshold\":%d,"
            "\"kept\":%d,\"unique\":%d,\"mean_confidence\":%.4f,\"label_accuracy\":%.2f,"
            "\"kept_label_accuracy\":%.2f,\"seconds\":%.1f}\n",
            round, ps.input, ps.above, ps.kept, ps.unique, ps.mean_conf, ps.acc_input, ps.acc_kept,
            secs);
    fflush(log);
    fprintf(stderr,
            "ens-train noisy-student: round %d pseudo-labels: %d of %d above %.2f, %d kept "
            "(%d unique), accuracy %.2f %% (kept %.2f %%), %.1f s\n",
            round, ps.above, ps.input, (double)pc.threshold, ps.kept, ps.unique, ps.acc_input,
            ps.acc_kept, secs);
    ens_tg_free(teacher); /* one network in memory at a time */
    teacher = NULL;

    /* the noised student on labeled + pseudo-labeled images, from scratch */
    snprintf(path, sizeof path, "%s/student-r%d", a.out, round);
    snprintf(name, sizeof name, "student-r%d", round);
    ens_train_recipe rr = rs;
    rr.epochs = a.student_epochs;
    rr.seed = rs.seed + (uint64_t)round;
    rr.train_b.seed = rr.seed;
    if ((rc = run_phase(&a, &a.student, &rr, &d, &train, path, name, log, &student, &pr[npr++])) !=
        0)
      goto out;
    rc = 1;
    teacher = student; /* the next round's teacher */
    student = NULL;
    if (round == 1 && a.baseline_epochs > 0) { /* after the first student: the headline first */
      ens_train_graph *b = NULL;
      ens_train_recipe rb = rs;
      rb.epochs = a.baseline_epochs;
      snprintf(path, sizeof path, "%s/baseline", a.out);
      rc = run_phase(&a, &a.student, &rb, &d, &d.train, path, "baseline", log, &b, &pr[npr++]);
      ens_tg_free(b);
      if (rc)
        goto out;
      rc = 1;
    }

    if (npr >= 60)
      break;
  }
  printf("noisy-student summary (top-1 on %d validation images):\n", d.val.n);
  for (int i = 0; i < npr; i++)
    printf("  %-16s %6.2f %%  %7.1f s\n", pr[i].name, pr[i].top1, pr[i].seconds);
  fprintf(log, "{\"phase\":\"summary\"");
  for (int i = 0; i < npr; i++)
    fprintf(log, ",\"%s_top1\":%.2f", pr[i].name, pr[i].top1);
  fprintf(log, "}\n");
  rc = 0;
  goto out;
fail:
  fprintf(stderr, "ens-train noisy-student: %s\n", err.message);
out:
  if (log)
    fclose(log);
  free(probs);
  ens_tg_free(teacher);
  ens_tg_free(student);
  ens_train_augment_free(aug_t);
  ens_train_augment_free(aug_s);
  ens_dataset_free(&u);
  ens_dataset_free(&pl);
  ens_dataset_free(&train);
  ens_data_free(&d);
  return rc;
}
