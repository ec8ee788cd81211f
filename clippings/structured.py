"""Structured data for article pages: schema.org `NewsArticle`, embedded as JSON-LD."""

from __future__ import annotations

from typing import Any

from clippings.archive import Term
from clippings.content import Article
from clippings.escape import web_url


def news_article(
    article: Article, terms: dict[str, list[Term]], description: str, language: str, url: str
) -> dict[str, Any]:
    """The article as schema.org describes news: who it is about, where, and what it is based on."""
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": article.title,
        "description": description,
        "inLanguage": article.language or language,
        "publisher": {"@type": "Organization", "name": article.publication},
        "author": [{"@type": "Person", "name": name} for name in article.authors],
        "about": [{"@type": "Person", "name": t.name} for t in terms["people"]],
        "contentLocation": [{"@type": "Place", "name": t.name} for t in terms["countries"]],
        "citation": [{"@type": "Organization", "name": t.name} for t in terms["sources"]],
    }
    if article.date:
        data["datePublished"] = article.iso_date
    if web_url(article.url):  # a javascript: or mailto: "original" is no source to base on
        data["isBasedOn"] = article.url
    if url:  # only with a base_url: JSON-LD wants absolute URLs
        data["url"] = data["mainEntityOfPage"] = url
    return {key: value for key, value in data.items() if value != []}
