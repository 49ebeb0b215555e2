
/*
 * vkstream HTTP: the LL-HLS serving location (vkstream_llhls_serve, issue
 * 14).  Files are those the rendition threads rename into place under
 * vkstream_llhls_path (media/vks_llhls_writer.c); the location's alias or
 * root maps the URI to them.  Parts, segments and init are sent as files
 * (ranges, sendfile); a media playlist request with delivery directives
 * (_HLS_msn, _HLS_part) is decided on the playlist read back from its
 * file (media/vks_llhls_state.c) and, when it must wait, parked.
 *
 * Parking without polling, in any worker: each worker has one inotify
 * descriptor in its event loop.  A parked request's directory is watched
 * (one watch per directory, counted by the requests on it) from before
 * its playlist is read, so no rename between the read and the park is
 * missed.  A rename of index.m3u8 there reads the playlist once and
 * answers the requests it now satisfies; a rename of any other name
 * there sends the part files parked requests wait for (a preload hint).
 * A timer answers 503 after 3 target durations.  Without inotify every
 * request is answered at once (degraded, logged once).
 */


#include "ngx_http_vkstream.h"
#include "media/vks_llhls_state.h"

#include <sys/inotify.h>


#define NGX_HTTP_VKSTREAM_LL_MAX_PARKED  10000    /* per worker, then 503 */
#define NGX_HTTP_VKSTREAM_LL_HINT_AHEAD  2        /* parts past the hint */
#define NGX_HTTP_VKSTREAM_LL_EVENTS      65536    /* bytes read at once */

#define NGX_HTTP_VKSTREAM_LL_PLAYLIST    "index.m3u8"
#define NGX_HTTP_VKSTREAM_LL_SKIP        "index_skip.m3u8"


typedef struct ngx_http_vkstream_ll_dir_s  ngx_http_vkstream_ll_dir_t;


/* a watched directory (per worker) */
struct ngx_http_vkstream_ll_dir_s {
    ngx_queue_t                   queue;       /* in the worker's list */
    ngx_queue_t                   waits;       /* parked requests */
    ngx_uint_t                    nwaits;
    int                           wd;
    unsigned                      playlist:1;  /* index.m3u8 renamed */
    unsigned                      moved:1;     /* another name renamed */
    unsigned                      gone:1;      /* deleted or moved */
    size_t                        len;
    u_char                        path[1];     /* "DIR/", NUL-terminated */
};


/* a parked request */
typedef struct {
    ngx_queue_t                   queue;       /* in dir->waits */
    ngx_http_request_t           *request;
    ngx_http_vkstream_ll_dir_t   *dir;         /* NULL: not parked */
    ngx_event_t                   timer;
    vks_llhls_req_t               req;
    ngx_str_t                     path;        /* the file asked for */
    unsigned                      part:1;      /* a part, else a playlist */
} ngx_http_vkstream_ll_wait_t;


static ngx_int_t ngx_http_vkstream_ll_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_vkstream_ll_name_ok(ngx_str_t *uri);
static ngx_int_t ngx_http_vkstream_ll_playlist(ngx_http_request_t *r,
    ngx_str_t *path, u_char *name);
static ngx_int_t ngx_http_vkstream_ll_media(ngx_http_request_t *r,
    ngx_str_t *path, u_char *name, ngx_str_t *type);
static ngx_int_t ngx_http_vkstream_ll_read(ngx_log_t *log, u_char *dir,
    size_t len, vks_llhls_state_t *st);
static ngx_int_t ngx_http_vkstream_ll_answer(ngx_http_request_t *r,
    ngx_str_t *path, unsigned td, ngx_flag_t skip);
static ngx_int_t ngx_http_vkstream_ll_send(ngx_http_request_t *r,
    ngx_str_t *path, ngx_str_t *type, ngx_str_t *cache);
static ngx_int_t ngx_http_vkstream_ll_header(ngx_http_request_t *r,
    const char *key, ngx_str_t *value);
static ngx_http_vkstream_ll_dir_t *ngx_http_vkstream_ll_watch(
    ngx_http_request_t *r, ngx_str_t *path);
static void ngx_http_vkstream_ll_unwatch(ngx_http_vkstream_ll_dir_t *d);
static ngx_int_t ngx_http_vkstream_ll_park(ngx_http_request_t *r,
    ngx_http_vkstream_ll_dir_t *d, ngx_str_t *path, vks_llhls_req_t *req,
    ngx_flag_t part, ngx_msec_t timeout);
static void ngx_http_vkstream_ll_unpark(ngx_http_vkstream_ll_wait_t *w);
static void ngx_http_vkstream_ll_wake(ngx_http_vkstream_ll_wait_t *w,
    ngx_int_t rc, unsigned td);
static void ngx_http_vkstream_ll_cleanup(void *data);
static void ngx_http_vkstream_ll_timeout(ngx_event_t *ev);
static void ngx_http_vkstream_ll_inotify(ngx_event_t *ev);
static void ngx_http_vkstream_ll_dir_run(ngx_http_vkstream_ll_dir_t *d,
    ngx_log_t *log);


/* per worker */
static ngx_connection_t  *ngx_http_vkstream_ll_conn;
static ngx_flag_t         ngx_http_vkstream_ll_broken;  /* no inotify */
static ngx_flag_t         ngx_http_vkstream_ll_warned;
static ngx_queue_t        ngx_http_vkstream_ll_dirs;
static ngx_uint_t         ngx_http_vkstream_ll_parked;


static ngx_str_t  ngx_http_vkstream_ll_m3u8 =
    ngx_string("application/vnd.apple.mpegurl");
static ngx_str_t  ngx_http_vkstream_ll_m4s = ngx_string("video/iso.segment");
static ngx_str_t  ngx_http_vkstream_ll_mp4 = ngx_string("video/mp4");
static ngx_str_t  ngx_http_vkstream_ll_no_cache = ngx_string("no-cache");

/*
 * Parts and segments: names start again from 0 when a stream is published
 * anew, so a cache must not keep them long (their files stay 3 target
 * durations after they leave the playlist)
 */
static ngx_str_t  ngx_http_vkstream_ll_media_cache =
    ngx_string("max-age=10");


char *
ngx_http_vkstream_llhls_serve(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (clcf->handler != NULL) {
        return "is duplicate, or the location has another handler";
    }

    clcf->handler = ngx_http_vkstream_ll_handler;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_vkstream_ll_handler(ngx_http_request_t *r)
{
    u_char     *last, *name;
    size_t      root;
    ngx_int_t   rc;
    ngx_str_t   path, ext;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    if (ngx_http_vkstream_ll_name_ok(&r->uri) != NGX_OK) {
        return NGX_HTTP_NOT_FOUND;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    last = ngx_http_map_uri_to_path(r, &path, &root, 0);
    if (last == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    path.len = last - path.data;     /* NUL-terminated */

    name = last;
    while (name > path.data && name[-1] != '/') {
        name--;
    }

    ext.data = last;
    while (ext.data > name && ext.data[0] != '.') {
        ext.data--;
    }

    if (name == path.data || ext.data[0] != '.') {
        return NGX_HTTP_NOT_FOUND;
    }

    ext.len = last - ext.data;

    if (ext.len == 5 && ngx_strncmp(ext.data, ".m3u8", 5) == 0) {
        return ngx_http_vkstream_ll_playlist(r, &path, name);
    }

    if (ext.len == 4 && ngx_strncmp(ext.data, ".m4s", 4) == 0) {
        return ngx_http_vkstream_ll_media(r, &path, name,
                                          &ngx_http_vkstream_ll_m4s);
    }

    if (ext.len == 4 && ngx_strncmp(ext.data, ".mp4", 4) == 0) {
        return ngx_http_vkstream_ll_media(r, &path, name,
                                          &ngx_http_vkstream_ll_mp4);
    }

    return NGX_HTTP_NOT_FOUND;
}


/*
 * Names the writer may make: a stream name is any bytes but "/" and a
 * leading "." (spaces and UTF-8 included), so only control bytes and
 * components starting with "." (no "..", no hidden or temporary file)
 * are refused
 */
static ngx_int_t
ngx_http_vkstream_ll_name_ok(ngx_str_t *uri)
{
    u_char      c;
    ngx_uint_t  i;

    if (uri->len == 0 || uri->data[0] != '/'
        || uri->data[uri->len - 1] == '/')
    {
        return NGX_DECLINED;
    }

    for (i = 0; i < uri->len; i++) {
        c = uri->data[i];

        if (c == '.' && uri->data[i - 1] == '/') {
            return NGX_DECLINED;
        }

        if (c < 0x20 || c == 0x7f) {
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_vkstream_ll_playlist(ngx_http_request_t *r, ngx_str_t *path,
    u_char *name)
{
    ngx_int_t                    rc;
    ngx_msec_t                   timeout;
    const char                  *reason;
    vks_llhls_req_t              req;
    vks_llhls_state_t            st;
    vks_llhls_block_e            b;
    ngx_http_vkstream_ll_dir_t  *d;

    /* the master playlist, a delta file: no directives apply */
    if (ngx_strcmp(name, NGX_HTTP_VKSTREAM_LL_PLAYLIST) != 0) {
        return ngx_http_vkstream_ll_send(r, path, &ngx_http_vkstream_ll_m3u8,
                                         &ngx_http_vkstream_ll_no_cache);
    }

    if (vks_llhls_state_args(&req, (char *) r->args.data, r->args.len,
                             &reason) != 0)
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "vkstream: LL-HLS 400: %s", reason);
        return NGX_HTTP_BAD_REQUEST;
    }

    if (req.has_part && !req.has_msn) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "vkstream: LL-HLS 400: _HLS_part without _HLS_msn");
        return NGX_HTTP_BAD_REQUEST;
    }

    if (!req.has_msn) {
        return ngx_http_vkstream_ll_answer(r, path, 0, req.skip);
    }

    /* watched before it is read: no rename is missed */
    d = ngx_http_vkstream_ll_watch(r, path);

    rc = ngx_http_vkstream_ll_read(r->connection->log, path->data,
                                   name - path->data, &st);
    if (rc != NGX_OK) {
        if (d) {
            ngx_http_vkstream_ll_unwatch(d);
        }

        return rc;
    }

    b = vks_llhls_state_block(&st, &req, &reason);

    if (b == VKS_LLHLS_BAD) {
        if (d) {
            ngx_http_vkstream_ll_unwatch(d);
        }

        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "vkstream: LL-HLS 400: %s", reason);
        return NGX_HTTP_BAD_REQUEST;
    }

    if (b == VKS_LLHLS_READY || d == NULL) {
        if (d) {
            ngx_http_vkstream_ll_unwatch(d);
        }

        return ngx_http_vkstream_ll_answer(r, path, st.td, req.skip);
    }

    timeout = vks_llhls_state_timeout_ms(&st);

    return ngx_http_vkstream_ll_park(r, d, path, &req, 0, timeout);
}


/* a part, a segment, init.mp4; a hinted part not written yet waits */
static ngx_int_t
ngx_http_vkstream_ll_media(ngx_http_request_t *r, ngx_str_t *path,
    u_char *name, ngx_str_t *type)
{
    ngx_int_t                    rc;
    uint64_t                     n, hint;
    ngx_file_info_t              fi;
    vks_llhls_state_t            st;
    ngx_http_vkstream_ll_dir_t  *d;

    if (type == &ngx_http_vkstream_ll_mp4) {
        /* rewritten by a new publish of the same name */
        return ngx_http_vkstream_ll_send(r, path, type,
                                         &ngx_http_vkstream_ll_no_cache);
    }

    if (ngx_file_info(path->data, &fi) != NGX_FILE_ERROR
        || vks_llhls_state_part_number((char *) name,
                                       path->data + path->len - name, &n)
           != 0)
    {
        return ngx_http_vkstream_ll_send(r, path, type,
                                         &ngx_http_vkstream_ll_media_cache);
    }

    d = ngx_http_vkstream_ll_watch(r, path);
    if (d == NULL) {
        return NGX_HTTP_NOT_FOUND;
    }

    /* written since: watched now, so the check above may be repeated */
    if (ngx_file_info(path->data, &fi) != NGX_FILE_ERROR) {
        ngx_http_vkstream_ll_unwatch(d);
        return ngx_http_vkstream_ll_send(r, path, type,
                                         &ngx_http_vkstream_ll_media_cache);
    }

    rc = ngx_http_vkstream_ll_read(r->connection->log, path->data,
                                   name - path->data, &st);

    if (rc != NGX_OK || st.ended || !st.hinted
        || vks_llhls_state_part_number(st.hint, ngx_strlen(st.hint), &hint)
           != 0
        || n < hint || n > hint + NGX_HTTP_VKSTREAM_LL_HINT_AHEAD)
    {
        ngx_http_vkstream_ll_unwatch(d);
        return NGX_HTTP_NOT_FOUND;
    }

    return ngx_http_vkstream_ll_park(r, d, path, NULL, 1,
                                     vks_llhls_state_timeout_ms(&st));
}


/*
 * The media playlist of directory dir (len bytes of "DIR/") read and
 * parsed.  NGX_OK, or an HTTP status: 404 when there is none
 */
static ngx_int_t
ngx_http_vkstream_ll_read(ngx_log_t *log, u_char *dir, size_t len,
    vks_llhls_state_t *st)
{
    u_char           *buf, file[NGX_MAX_PATH];
    size_t            size;
    ssize_t           n;
    ngx_fd_t          fd;
    ngx_int_t         rc;
    const char       *reason;
    ngx_file_info_t   fi;

    if (len + sizeof(NGX_HTTP_VKSTREAM_LL_PLAYLIST) > NGX_MAX_PATH) {
        return NGX_HTTP_NOT_FOUND;
    }

    ngx_memcpy(ngx_cpymem(file, dir, len), NGX_HTTP_VKSTREAM_LL_PLAYLIST,
               sizeof(NGX_HTTP_VKSTREAM_LL_PLAYLIST));

    fd = ngx_open_file(file, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        return NGX_HTTP_NOT_FOUND;
    }

    rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
    buf = NULL;

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR) {
        goto done;
    }

    size = (size_t) ngx_file_size(&fi);

    if (size > VKS_LLHLS_STATE_MAX) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "vkstream: LL-HLS playlist \"%s\" too large", file);
        goto done;
    }

    buf = ngx_alloc(size + 1, log);
    if (buf == NULL) {
        goto done;
    }

    /* renamed into place whole: one read gives it all */
    n = read(fd, buf, size);

    if (n < 0 || vks_llhls_state_parse(st, (char *) buf, n, &reason) != 0) {
        ngx_log_error(NGX_LOG_ERR, log, n < 0 ? ngx_errno : 0,
                      "vkstream: LL-HLS playlist \"%s\" unreadable: %s",
                      file, n < 0 ? "read() failed" : reason);
        goto done;
    }

    rc = NGX_OK;

done:

    ngx_free(buf);
    ngx_close_file(fd);

    return rc;
}


/*
 * A media playlist answer: index_skip.m3u8 for _HLS_skip when it exists.
 * A blocking answer may be cached a target duration, not B.1's 6: a new
 * publish of the same name starts MSNs again from 0
 */
static ngx_int_t
ngx_http_vkstream_ll_answer(ngx_http_request_t *r, ngx_str_t *path,
    unsigned td, ngx_flag_t skip)
{
    u_char           *p;
    ngx_str_t         file, cache;
    ngx_file_info_t   fi;

    file = *path;

    if (skip) {
        p = ngx_pnalloc(r->pool, path->len + sizeof(NGX_HTTP_VKSTREAM_LL_SKIP));
        if (p == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        file.data = p;
        p = ngx_cpymem(p, path->data,
                       path->len - (sizeof(NGX_HTTP_VKSTREAM_LL_PLAYLIST) - 1));
        p = ngx_cpymem(p, NGX_HTTP_VKSTREAM_LL_SKIP,
                       sizeof(NGX_HTTP_VKSTREAM_LL_SKIP));
        file.len = p - 1 - file.data;

        if (ngx_file_info(file.data, &fi) == NGX_FILE_ERROR) {
            file = *path;
        }
    }

    if (td == 0) {
        return ngx_http_vkstream_ll_send(r, &file, &ngx_http_vkstream_ll_m3u8,
                                         &ngx_http_vkstream_ll_no_cache);
    }

    cache.data = ngx_pnalloc(r->pool, sizeof("max-age=") + NGX_INT_T_LEN);
    if (cache.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cache.len = ngx_sprintf(cache.data, "max-age=%ui", (ngx_uint_t) td)
                - cache.data;

    return ngx_http_vkstream_ll_send(r, &file, &ngx_http_vkstream_ll_m3u8,
                                     &cache);
}


/* a file as the static module sends it (no open file cache: renamed) */
static ngx_int_t
ngx_http_vkstream_ll_send(ngx_http_request_t *r, ngx_str_t *path,
    ngx_str_t *type, ngx_str_t *cache)
{
    ngx_int_t                  rc;
    ngx_buf_t                 *b;
    ngx_str_t                  star = ngx_string("*");
    ngx_uint_t                 level;
    ngx_chain_t                out;
    ngx_open_file_info_t       of;
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    ngx_memzero(&of, sizeof(ngx_open_file_info_t));

    of.read_ahead = clcf->read_ahead;
    of.directio = NGX_MAX_OFF_T_VALUE;

    if (ngx_http_set_disable_symlinks(r, clcf, path, &of) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_open_cached_file(NULL, path, &of, r->pool) != NGX_OK) {
        switch (of.err) {

        case 0:
            return NGX_HTTP_INTERNAL_SERVER_ERROR;

        case NGX_ENOENT:
        case NGX_ENOTDIR:
        case NGX_ENAMETOOLONG:
            return NGX_HTTP_NOT_FOUND;

        case NGX_EACCES:
            level = NGX_LOG_ERR;
            rc = NGX_HTTP_FORBIDDEN;
            break;

        default:
            level = NGX_LOG_CRIT;
            rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
            break;
        }

        ngx_log_error(level, r->connection->log, of.err,
                      "%s \"%s\" failed", of.failed, path->data);
        return rc;
    }

    if (!of.is_file) {
        return NGX_HTTP_NOT_FOUND;
    }

    r->root_tested = !r->error_page;
    r->allow_ranges = 1;

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = of.size;
    r->headers_out.content_type = *type;
    r->headers_out.content_type_len = type->len;

    if (ngx_http_vkstream_ll_header(r, "Cache-Control", cache) != NGX_OK
        || ngx_http_vkstream_ll_header(r, "Access-Control-Allow-Origin",
                                       &star) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->file = ngx_pcalloc(r->pool, sizeof(ngx_file_t));
    if (b->file == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    b->file_pos = 0;
    b->file_last = of.size;
    b->in_file = b->file_last ? 1 : 0;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;
    b->sync = (b->last_buf || b->in_file) ? 0 : 1;

    b->file->fd = of.fd;
    b->file->name = *path;
    b->file->log = r->connection->log;
    b->file->directio = of.is_directio;

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


static ngx_int_t
ngx_http_vkstream_ll_header(ngx_http_request_t *r, const char *key,
    ngx_str_t *value)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    h->key.data = (u_char *) key;
    h->key.len = ngx_strlen(key);
    h->value = *value;

    return NGX_OK;
}


/*
 * The watch on the directory of path, made (with the worker's inotify
 * descriptor) or counted once more; NULL when inotify cannot be used
 */
static ngx_http_vkstream_ll_dir_t *
ngx_http_vkstream_ll_watch(ngx_http_request_t *r, ngx_str_t *path)
{
    int                          fd, wd;
    u_char                      *p, *slash;
    size_t                       len;
    ngx_queue_t                 *q;
    ngx_connection_t            *c;
    ngx_http_vkstream_ll_dir_t  *d;

    if (ngx_http_vkstream_ll_broken) {
        return NULL;
    }

    if (ngx_http_vkstream_ll_conn == NULL) {
        fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (fd == -1) {
            ngx_log_error(NGX_LOG_WARN, r->connection->log, ngx_errno,
                          "vkstream: inotify_init1() failed, LL-HLS "
                          "requests are answered without blocking");
            ngx_http_vkstream_ll_broken = 1;
            return NULL;
        }

        c = ngx_get_connection(fd, ngx_cycle->log);
        if (c == NULL) {
            close(fd);
            return NULL;
        }

        c->read->handler = ngx_http_vkstream_ll_inotify;
        c->read->log = ngx_cycle->log;
        c->write->log = ngx_cycle->log;

        if (ngx_add_event(c->read, NGX_READ_EVENT, 0) != NGX_OK) {
            ngx_close_connection(c);
            return NULL;
        }

        ngx_http_vkstream_ll_conn = c;
        ngx_queue_init(&ngx_http_vkstream_ll_dirs);
    }

    slash = path->data + path->len;
    while (slash > path->data && slash[-1] != '/') {
        slash--;
    }

    len = slash - path->data;     /* "DIR/" */

    p = ngx_alloc(len, r->connection->log);
    if (p == NULL) {
        return NULL;
    }

    ngx_memcpy(p, path->data, len - 1);
    p[len - 1] = '\0';

    wd = inotify_add_watch(ngx_http_vkstream_ll_conn->fd, (char *) p,
                           IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF
                           | IN_ONLYDIR);
    ngx_free(p);

    if (wd == -1) {
        /* a missing directory is a 404; a full watch table is logged once */
        if (ngx_errno != NGX_ENOENT && ngx_errno != NGX_ENOTDIR
            && !ngx_http_vkstream_ll_warned)
        {
            ngx_log_error(NGX_LOG_WARN, r->connection->log, ngx_errno,
                          "vkstream: inotify_add_watch(\"%*s\") failed, "
                          "LL-HLS requests answered without blocking while "
                          "it fails", len, path->data);
            ngx_http_vkstream_ll_warned = 1;
        }

        return NULL;
    }

    for (q = ngx_queue_head(&ngx_http_vkstream_ll_dirs);
         q != ngx_queue_sentinel(&ngx_http_vkstream_ll_dirs);
         q = ngx_queue_next(q))
    {
        d = ngx_queue_data(q, ngx_http_vkstream_ll_dir_t, queue);

        if (d->wd == wd) {
            d->nwaits++;
            return d;
        }
    }

    d = ngx_alloc(sizeof(ngx_http_vkstream_ll_dir_t) + len,
                  r->connection->log);
    if (d == NULL) {
        (void) inotify_rm_watch(ngx_http_vkstream_ll_conn->fd, wd);
        return NULL;
    }

    ngx_memzero(d, sizeof(ngx_http_vkstream_ll_dir_t));
    d->wd = wd;
    d->nwaits = 1;
    d->len = len;
    ngx_memcpy(d->path, path->data, len);
    d->path[len] = '\0';
    ngx_queue_init(&d->waits);
    ngx_queue_insert_tail(&ngx_http_vkstream_ll_dirs, &d->queue);

    return d;
}


/* one use of the watch less; the last removes it */
static void
ngx_http_vkstream_ll_unwatch(ngx_http_vkstream_ll_dir_t *d)
{
    if (--d->nwaits) {
        return;
    }

    if (!d->gone) {
        (void) inotify_rm_watch(ngx_http_vkstream_ll_conn->fd, d->wd);
    }

    ngx_queue_remove(&d->queue);
    ngx_free(d);
}


/* the request waits on d (counted already) for its answer */
static ngx_int_t
ngx_http_vkstream_ll_park(ngx_http_request_t *r,
    ngx_http_vkstream_ll_dir_t *d, ngx_str_t *path, vks_llhls_req_t *req,
    ngx_flag_t part, ngx_msec_t timeout)
{
    ngx_pool_cleanup_t           *cln;
    ngx_http_vkstream_ll_wait_t  *w;

    if (ngx_http_vkstream_ll_parked >= NGX_HTTP_VKSTREAM_LL_MAX_PARKED) {
        ngx_http_vkstream_ll_unwatch(d);
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "vkstream: %ui LL-HLS requests parked already, 503",
                      ngx_http_vkstream_ll_parked);
        return NGX_HTTP_SERVICE_UNAVAILABLE;
    }

    w = ngx_pcalloc(r->pool, sizeof(ngx_http_vkstream_ll_wait_t));
    cln = ngx_pool_cleanup_add(r->pool, 0);

    if (w == NULL || cln == NULL) {
        ngx_http_vkstream_ll_unwatch(d);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    w->request = r;
    w->dir = d;
    w->path = *path;
    w->part = part ? 1 : 0;

    if (req) {
        w->req = *req;
    }

    w->timer.handler = ngx_http_vkstream_ll_timeout;
    w->timer.data = w;
    w->timer.log = r->connection->log;
    ngx_add_timer(&w->timer, timeout);

    cln->handler = ngx_http_vkstream_ll_cleanup;
    cln->data = w;

    ngx_queue_insert_tail(&d->waits, &w->queue);
    ngx_http_vkstream_ll_parked++;

    /* a client that closes is noticed (and the request freed) */
    r->read_event_handler = ngx_http_test_reading;
    r->write_event_handler = ngx_http_request_empty_handler;

    r->main->count++;

    return NGX_DONE;
}


static void
ngx_http_vkstream_ll_unpark(ngx_http_vkstream_ll_wait_t *w)
{
    if (w->dir == NULL) {
        return;
    }

    ngx_queue_remove(&w->queue);
    ngx_http_vkstream_ll_parked--;

    if (w->timer.timer_set) {
        ngx_del_timer(&w->timer);
    }

    ngx_http_vkstream_ll_unwatch(w->dir);
    w->dir = NULL;
}


/*
 * rc: answer with the file (NGX_OK; a playlist cached td seconds) or with
 * this status
 */
static void
ngx_http_vkstream_ll_wake(ngx_http_vkstream_ll_wait_t *w, ngx_int_t rc,
    unsigned td)
{
    ngx_connection_t    *c;
    ngx_http_request_t  *r;

    r = w->request;
    c = r->connection;

    ngx_http_vkstream_ll_unpark(w);

    if (rc == NGX_OK) {
        rc = w->part ? ngx_http_vkstream_ll_send(r, &w->path,
                                                 &ngx_http_vkstream_ll_m4s,
                                             &ngx_http_vkstream_ll_media_cache)
                     : ngx_http_vkstream_ll_answer(r, &w->path, td,
                                                   w->req.skip);
    }

    ngx_http_finalize_request(r, rc);
    ngx_http_run_posted_requests(c);
}


static void
ngx_http_vkstream_ll_cleanup(void *data)
{
    ngx_http_vkstream_ll_unpark(data);
}


static void
ngx_http_vkstream_ll_timeout(ngx_event_t *ev)
{
    ngx_http_vkstream_ll_wait_t  *w = ev->data;

    ngx_log_error(NGX_LOG_INFO, ev->log, 0,
                  "vkstream: LL-HLS request waited 3 target durations, 503");

    ngx_http_vkstream_ll_wake(w, NGX_HTTP_SERVICE_UNAVAILABLE, 0);
}


static void
ngx_http_vkstream_ll_inotify(ngx_event_t *ev)
{
    char                        *p, *end;
    ssize_t                      n;
    ngx_uint_t                   all;
    ngx_queue_t                 *q, *next;
    ngx_connection_t            *c;
    struct inotify_event        *ie;
    ngx_http_vkstream_ll_dir_t  *d;
    static char                  buf[NGX_HTTP_VKSTREAM_LL_EVENTS]
                                     __attribute__((aligned(8)));

    c = ev->data;
    all = 0;

    /* marks first, then answers: once per directory per read */
    for ( ;; ) {
        n = read(c->fd, buf, sizeof(buf));

        if (n <= 0) {
            break;
        }

        for (p = buf, end = buf + n; p < end;
             p += sizeof(struct inotify_event) + ie->len)
        {
            ie = (struct inotify_event *) p;

            if (ie->mask & IN_Q_OVERFLOW) {
                all = 1;
                continue;
            }

            for (q = ngx_queue_head(&ngx_http_vkstream_ll_dirs);
                 q != ngx_queue_sentinel(&ngx_http_vkstream_ll_dirs);
                 q = ngx_queue_next(q))
            {
                d = ngx_queue_data(q, ngx_http_vkstream_ll_dir_t, queue);

                if (d->wd != ie->wd) {
                    continue;
                }

                if (ie->mask & (IN_DELETE_SELF|IN_MOVE_SELF|IN_IGNORED)) {
                    d->gone = (ie->mask & IN_IGNORED) ? 1 : d->gone;
                    d->playlist = 1;

                } else if (ie->len
                           && ngx_strcmp(ie->name,
                                         NGX_HTTP_VKSTREAM_LL_PLAYLIST) == 0)
                {
                    d->playlist = 1;

                } else {
                    d->moved = 1;
                }

                break;
            }
        }
    }

    /*
     * Each directory holds itself while its requests are answered (an
     * answer may park a pipelined request on it)
     */
    for (q = ngx_queue_head(&ngx_http_vkstream_ll_dirs);
         q != ngx_queue_sentinel(&ngx_http_vkstream_ll_dirs);
         q = next)
    {
        d = ngx_queue_data(q, ngx_http_vkstream_ll_dir_t, queue);

        if (all) {
            d->playlist = 1;
            d->moved = 1;
        }

        if (!d->playlist && !d->moved) {
            next = ngx_queue_next(q);
            continue;
        }

        d->nwaits++;
        ngx_http_vkstream_ll_dir_run(d, ev->log);
        next = ngx_queue_next(q);
        ngx_http_vkstream_ll_unwatch(d);
    }
}


/* the parked requests of d after a rename there */
static void
ngx_http_vkstream_ll_dir_run(ngx_http_vkstream_ll_dir_t *d, ngx_log_t *log)
{
    ngx_int_t                     rc, read;
    ngx_queue_t                   todo, *q;
    const char                   *reason;
    vks_llhls_state_t             st;
    vks_llhls_block_e             b;
    ngx_file_info_t               fi;
    ngx_http_vkstream_ll_wait_t  *w;

    read = NGX_DECLINED;

    /* the requests of now: one answered may park another one here */
    ngx_queue_init(&todo);

    if (!ngx_queue_empty(&d->waits)) {
        todo = d->waits;
        todo.next->prev = &todo;
        todo.prev->next = &todo;
        ngx_queue_init(&d->waits);
    }

    while (!ngx_queue_empty(&todo)) {
        q = ngx_queue_head(&todo);
        ngx_queue_remove(q);
        ngx_queue_insert_tail(&d->waits, q);

        w = ngx_queue_data(q, ngx_http_vkstream_ll_wait_t, queue);

        if (w->part) {
            if (ngx_file_info(w->path.data, &fi) != NGX_FILE_ERROR) {
                ngx_http_vkstream_ll_wake(w, NGX_OK, 0);
                continue;
            }

            if (!d->playlist) {
                continue;
            }
        }

        if (!d->playlist) {
            continue;
        }

        if (read == NGX_DECLINED) {
            read = ngx_http_vkstream_ll_read(log, d->path, d->len, &st);
        }

        if (read != NGX_OK) {
            /* gone: nothing will come */
            ngx_http_vkstream_ll_wake(w, NGX_HTTP_NOT_FOUND, 0);
            continue;
        }

        if (w->part) {
            if (st.ended) {
                ngx_http_vkstream_ll_wake(w, NGX_HTTP_NOT_FOUND, 0);
            }

            continue;
        }

        b = vks_llhls_state_block(&st, &w->req, &reason);

        if (b == VKS_LLHLS_WAIT) {
            continue;
        }

        rc = (b == VKS_LLHLS_READY) ? NGX_OK : NGX_HTTP_BAD_REQUEST;

        ngx_http_vkstream_ll_wake(w, rc, st.td);
    }

    d->playlist = 0;
    d->moved = 0;
}

