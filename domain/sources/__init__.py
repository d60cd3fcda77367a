"""Sources: the public-domain platforms that push leads and orders in (Douyin and Xiaohongshu
lead pushes, the order webhook, Youzan's push). Each module is pure: `signatures` checks a push
as its platform signs it, `leads` and `orders` translate a verified push into events, `settings`
holds what a tenant configures for each."""
