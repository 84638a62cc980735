"""procure-match: public-procurement matchmaking (공공구매 상담·매칭)."""
