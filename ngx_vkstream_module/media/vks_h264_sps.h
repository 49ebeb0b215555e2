
/*
 * vkstream media: the picture size an H.264 SPS declares (ITU-T H.264
 * 7.3.2.1.1), read up to frame_cropping without decoding anything.  A copy
 * rendition passes the source's packets through and decodes nothing, yet
 * its muxers (FLV, the LL-HLS fMP4) need the size: it comes from here.
 *
 * Input comes from a publisher and is treated as hostile: every read is
 * bounded, exp-Golomb codes longer than 32 bits are refused, and so are
 * sizes above VKS_H264_SPS_MAX or cropped to nothing.  Plain C, no nginx
 * types.
 */


#ifndef _VKS_H264_SPS_H_INCLUDED_
#define _VKS_H264_SPS_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>


#define VKS_H264_SPS_MAX  16384     /* pixels, either side */


typedef struct {
    unsigned  profile_idc;
    unsigned  level_idc;
    unsigned  chroma_format_idc;    /* 0-3 (1: 4:2:0) */
    unsigned  bit_depth_luma;       /* 8-14 */
    unsigned  frame_mbs_only;       /* 0: fields may be coded */
    unsigned  width;                /* after cropping: what is shown */
    unsigned  height;
} vks_h264_sps_t;


/*
 * One SPS NAL unit, its 1-byte NAL header first, emulation prevention
 * bytes still in.  Returns 0 with sps filled, or -1 with the reason in err.
 */
int vks_h264_sps_parse(const uint8_t *p, size_t len, vks_h264_sps_t *sps,
    char *err, size_t errlen);

/*
 * The first SPS of an AVC decoder configuration record (avcC, the body
 * of an FLV AVC sequence header).  Same contract.
 */
int vks_h264_sps_avcc(const uint8_t *p, size_t len, vks_h264_sps_t *sps,
    char *err, size_t errlen);


#endif /* _VKS_H264_SPS_H_INCLUDED_ */
