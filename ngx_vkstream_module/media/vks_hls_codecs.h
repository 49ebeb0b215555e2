
/*
 * vkstream media: RFC 6381 CODECS strings for HLS playlists, from the
 * codec configuration the publisher actually sent (issue 14):
 *
 *   "avc1.PPCCLL"  the hex of SPS bytes 1-3 (profile_idc, constraint
 *                  flags, level_idc), e.g. "avc1.64001f" for High@3.1;
 *                  "avc1", not "avc3", as Apple asks: parameter sets are
 *                  in the init segment
 *   "mp4a.40.N"    N the AAC audio object type in decimal, e.g. 2 (LC),
 *                  5 (SBR), 29 (PS), 42 (USAC) through the escape (31)
 *
 * Input comes from a publisher and is treated as hostile: every length is
 * checked, and an error names what is wrong, never echoes the bytes.
 * Plain C, no nginx types.
 */


#ifndef _VKS_HLS_CODECS_H_INCLUDED_
#define _VKS_HLS_CODECS_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>


/* "avc1.PPCCLL" and "mp4a.40.NN" with their NUL */
#define VKS_HLS_CODEC_LEN      16
#define VKS_HLS_CODEC_ERR_LEN  96


typedef struct {
    unsigned  object_type;   /* 1-95; 2 is AAC-LC */
    unsigned  sample_rate;   /* Hz, from the index or the explicit value */
    unsigned  channels;      /* channelConfiguration, 0 = in the PCE */
} vks_hls_aac_t;


/*
 * From an AVC decoder configuration record (ISO 14496-15 avcC, the body of
 * an FLV AVC sequence header after its 5-byte tag header): the first SPS
 * is authoritative, as its bytes are what decoders read.  Returns 0 with
 * the string in codec, or -1 with the reason in err ("avcC: truncated
 * SPS (12 bytes declared, 5 left)").
 */
int vks_hls_codec_avcc(const uint8_t *p, size_t len,
    char codec[VKS_HLS_CODEC_LEN], char *err, size_t errlen);

/*
 * From one SPS NAL unit, its 1-byte NAL header first; a leading Annex B
 * start code (00 00 01 or 00 00 00 01) is skipped.  Same contract.
 */
int vks_hls_codec_sps(const uint8_t *p, size_t len,
    char codec[VKS_HLS_CODEC_LEN], char *err, size_t errlen);

/*
 * From an H.264 encoder's or demuxer's extradata, whichever form it has:
 * an avcC record (first byte 1, as FLV and MP4 carry it) or Annex B
 * parameter sets (start codes, as libx264 gives them), where the first
 * SPS NAL unit counts.  Same contract.
 */
int vks_hls_codec_h264_extradata(const uint8_t *p, size_t len,
    char codec[VKS_HLS_CODEC_LEN], char *err, size_t errlen);

/*
 * From an AAC AudioSpecificConfig (ISO 14496-3 1.6.2.1).  aac may be NULL;
 * otherwise it is filled as well.  Same contract ("AudioSpecificConfig:
 * sampling frequency index 13 is reserved").
 */
int vks_hls_codec_aac(const uint8_t *p, size_t len,
    char codec[VKS_HLS_CODEC_LEN], vks_hls_aac_t *aac, char *err,
    size_t errlen);


#endif /* _VKS_HLS_CODECS_H_INCLUDED_ */
