-- What each sector and city room is for, in both languages: shown in the first-visit welcome
-- and under the room's title. The text lives in chat/store/catalog.py; every migrate run
-- writes it into these columns (direct conversations keep the empty default).
ALTER TABLE rooms ADD COLUMN description_en TEXT NOT NULL DEFAULT '';
ALTER TABLE rooms ADD COLUMN description_zh TEXT NOT NULL DEFAULT '';
