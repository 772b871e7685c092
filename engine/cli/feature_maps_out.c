/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* feature_maps_out.c - gathering and saving the feature maps of ens-classify (see header). */
#include "feature_maps_out.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "st_out.h"

static size_t per_image(const ens_map_info *m)
{
  return (size_t)m->channels * m->height * m->width;
}

int ens_fmaps_init(ens_fmaps *f, const ens_session *s, int images, char *errbuf, size_t errlen)
{
  memset(f, 0, sizeof *f);
  f->images = images;
  for (int i = 0; i <= ENS_FEATURE_MAPS; i++) {
    ens_error err;
    if (ens_session_map_info(s, i, &f->info[i], &err) != ENS_OK) {
      snprintf(errbuf, errlen, "%s", err.message);
      return -1;
    }
    f->all[i] = malloc(sizeof(float) * per_image(&f->info[i]) * (size_t)images);
    if (!f->all[i]) {
      snprintf(errbuf, errlen, "out of memory for the %s feature maps of %d images",
               f->info[i].name, images);
      return -1;
    }
  }
  return 0;
}

void ens_fmaps_target(ens_fmaps *f, int first, ens_outputs *out)
{
  for (int i = 0; i < ENS_FEATURE_MAPS; i++)
    out->maps[i] = f->all[i] + per_image(&f->info[i]) * (size_t)first;
  out->head_map = f->all[ENS_FEATURE_MAPS] + per_image(&f->info[ENS_FEATURE_MAPS]) * (size_t)first;
}

int ens_fmaps_save(const ens_fmaps *f, const char *path, char *errbuf, size_t errlen)
{
  ens_st_out_tensor t[ENS_FEATURE_MAPS + 1];
  for (int i = 0; i <= ENS_FEATURE_MAPS; i++) {
    const ens_map_info *m = &f->info[i];
    t[i] = (ens_st_out_tensor){.name = m->name,
                               .data = f->all[i],
                               .ndim = 4,
                               .shape = {f->images, m->channels, m->height, m->width}};
  }
  return ens_st_out_write_f32(path, t, ENS_FEATURE_MAPS + 1, errbuf, errlen);
}

void ens_fmaps_free(ens_fmaps *f)
{
  for (int i = 0; i <= ENS_FEATURE_MAPS; i++)
    free(f->all[i]);
  memset(f, 0, sizeof *f);
}
