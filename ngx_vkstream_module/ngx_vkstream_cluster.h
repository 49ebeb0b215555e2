
/*
 * vkstream cluster mode: the nginx side of cluster/ (see
 * ngx_vkstream_cluster.c).
 */


#ifndef _NGX_VKSTREAM_CLUSTER_H_INCLUDED_
#define _NGX_VKSTREAM_CLUSTER_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_vkstream.h"
#include "ngx_vkstream_table.h"


/* directive handlers: each error names its directive */
char *ngx_vkstream_cluster_set_redis(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_vkstream_cluster_set_node(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_vkstream_cluster_set_url(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_vkstream_cluster_set_prefix(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
extern ngx_conf_post_handler_pt  ngx_vkstream_cluster_ttl_post;

char *ngx_vkstream_cluster_init_conf(ngx_cycle_t *cycle,
    ngx_vkstream_conf_t *vcf);
ngx_int_t ngx_vkstream_cluster_init_process(ngx_cycle_t *cycle);
void ngx_vkstream_cluster_exit_process(ngx_cycle_t *cycle);

/* the VK holder's matches go to the other nodes too */
void ngx_vkstream_cluster_match(ngx_str_t *tag, ngx_vkstream_match_in_t *m);

/* this node's name and public URL ("" when cluster mode is off) */
void ngx_vkstream_cluster_self(ngx_str_t *node, ngx_str_t *url);


#endif /* _NGX_VKSTREAM_CLUSTER_H_INCLUDED_ */
