"""The rooms that exist from the first start (docs/architecture.md), seeded by every migrate run."""

from __future__ import annotations

from chat.models import Room

SEED_ROOMS: tuple[Room, ...] = (
    Room("urban-renewal", "sector", "Urban Renewal", "城市更新"),
    Room("green-buildings", "sector", "Green Buildings", "绿色建筑"),
    Room("green-transport", "sector", "Green Transport", "绿色交通"),
    Room("clean-energy", "sector", "Clean Energy Utilization", "清洁能源利用"),
    Room("water-management", "sector", "Water Management", "水资源管理"),
    Room("solid-waste", "sector", "Solid Waste Management", "固体废物管理"),
    Room("municipal-finance", "sector", "Municipal Finance", "市政金融"),
    Room("zhuhai", "city", "Zhuhai", "珠海"),
    Room("luoyang", "city", "Luoyang", "洛阳"),
    Room("weihai", "city", "Weihai", "威海"),
    Room("changzhou", "city", "Changzhou", "常州"),
    Room("guilin", "city", "Guilin", "桂林"),
    Room("hefei", "city", "Hefei", "合肥"),
    Room("liuzhou", "city", "Liuzhou", "柳州"),
    Room("qingdao", "city", "Qingdao", "青岛"),
    Room("zhuzhou", "city", "Zhuzhou", "株洲"),
    Room("xixian", "city", "Xixian New Area", "西咸新区"),
)
